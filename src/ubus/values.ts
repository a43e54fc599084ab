// Plain JS values <-> blobmsg, the way `ubus call` (blobmsg_add_json_element) and blobmsg_format_json do it,
// optionally steered by a method's policy (its signature): named arguments get the declared type.
import type { BlobmsgNode, BlobmsgTypeName } from './blobmsg.js';
import { blobmsgDepthMax, blobmsgNodesMax, nameBytesMax } from './limits.js';
import { fail, ok, type Result } from './result.js';

/** A policy type as written in a signature: a blobmsg type, with `bool` for int8 read as a boolean. */
export type ArgType = Exclude<BlobmsgTypeName, 'int8'> | 'int8' | 'bool';
export type Policy = Readonly<Record<string, ArgType>>;

export type JsValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | readonly JsValue[]
  | { readonly [key: string]: JsValue };
export type JsTable = { readonly [key: string]: JsValue };

export type ValueReason =
  | 'unsupported-value'
  | 'too-deep'
  | 'too-many-nodes'
  | 'name-too-long'
  | 'argument-type'
  | 'argument-range';

const encoder = new TextEncoder();
const int32Min = -0x8000_0000;
const int32Max = 0x7fff_ffff;

interface Budget {
  nodes: number;
}

function isPlainObject(value: unknown): value is JsTable {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** Default mapping (blobmsg_add_json_element): bool→int8, integer→int32 or int64, other number→double, null→unspec. */
function defaultNode(name: string, value: JsValue, depth: number, budget: Budget): Result<BlobmsgNode, ValueReason> {
  if (typeof value === 'boolean') return ok({ type: 'int8', name, value: value ? 1 : 0 });
  if (typeof value === 'string') return ok({ type: 'string', name, value });
  if (typeof value === 'bigint')
    return BigInt.asIntN(64, value) === value ? ok({ type: 'int64', name, value }) : fail('argument-range');
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return fail('unsupported-value');
    if (!Number.isInteger(value)) return ok({ type: 'double', name, value });
    if (value >= int32Min && value <= int32Max) return ok({ type: 'int32', name, value });
    return Number.isSafeInteger(value)
      ? ok({ type: 'int64', name, value: BigInt(value) })
      : ok({ type: 'double', name, value });
  }
  if (value === null) return ok({ type: 'unspec', name, value: new Uint8Array(0) });
  if (value instanceof Uint8Array) return ok({ type: 'unspec', name, value });
  if (Array.isArray(value)) return containerNode('array', name, value, depth, budget);
  if (isPlainObject(value)) return containerNode('table', name, value, depth, budget);
  return fail('unsupported-value');
}

function containerNode(
  type: 'array' | 'table',
  name: string,
  value: JsValue,
  depth: number,
  budget: Budget,
): Result<BlobmsgNode, ValueReason> {
  if (depth + 1 > blobmsgDepthMax) return fail('too-deep');
  const children =
    type === 'array'
      ? arrayNodes(value as readonly JsValue[], depth + 1, budget)
      : tableNodes(value as JsTable, undefined, depth + 1, budget);
  if (!children.ok) return children;
  return ok({ type, name, children: children.value });
}

function arrayNodes(values: readonly JsValue[], depth: number, budget: Budget): Result<BlobmsgNode[], ValueReason> {
  const out: BlobmsgNode[] = [];
  for (const value of values) {
    if (--budget.nodes < 0) return fail('too-many-nodes');
    const node = defaultNode('', value, depth, budget);
    if (!node.ok) return node;
    out.push(node.value);
  }
  return ok(out);
}

function integerNode(type: 'int32' | 'int16' | 'int8', name: string, value: number): Result<BlobmsgNode, ValueReason> {
  const bits = type === 'int32' ? 32 : type === 'int16' ? 16 : 8;
  // Like the C setters, accept the signed and the unsigned range of the width.
  if (!Number.isInteger(value) || value < -(2 ** (bits - 1)) || value >= 2 ** bits) return fail('argument-range');
  return ok({ type, name, value: type === 'int8' ? value & 0xff : type === 'int16' ? (value << 16) >> 16 : value | 0 });
}

/** A policy-named field: the declared type or a refusal. */
function typedNode(
  type: ArgType,
  name: string,
  value: JsValue,
  depth: number,
  budget: Budget,
): Result<BlobmsgNode, ValueReason> {
  switch (type) {
    case 'bool':
      return typeof value === 'boolean' ? ok({ type: 'int8', name, value: value ? 1 : 0 }) : fail('argument-type');
    case 'string':
      return typeof value === 'string' ? ok({ type: 'string', name, value }) : fail('argument-type');
    case 'double':
      return typeof value === 'number' ? ok({ type: 'double', name, value }) : fail('argument-type');
    case 'int64':
      if (typeof value === 'bigint') return defaultNode(name, value, depth, budget);
      return typeof value === 'number' && Number.isSafeInteger(value)
        ? ok({ type: 'int64', name, value: BigInt(value) })
        : fail('argument-type');
    case 'int32':
    case 'int16':
    case 'int8':
      return typeof value === 'number' ? integerNode(type, name, value) : fail('argument-type');
    case 'table':
      return isPlainObject(value) ? containerNode('table', name, value, depth, budget) : fail('argument-type');
    case 'array':
      return Array.isArray(value) ? containerNode('array', name, value, depth, budget) : fail('argument-type');
    case 'unspec':
      return defaultNode(name, value, depth, budget);
  }
}

function tableNodes(
  table: JsTable,
  policy: Policy | undefined,
  depth: number,
  budget: Budget,
): Result<BlobmsgNode[], ValueReason> {
  const out: BlobmsgNode[] = [];
  for (const [name, value] of Object.entries(table)) {
    if (--budget.nodes < 0) return fail('too-many-nodes');
    if (encoder.encode(name).length > nameBytesMax) return fail('name-too-long');
    const declared = policy !== undefined && Object.hasOwn(policy, name) ? policy[name] : undefined;
    const node =
      declared === undefined
        ? defaultNode(name, value, depth, budget)
        : typedNode(declared, name, value, depth, budget);
    if (!node.ok) return node;
    out.push(node.value);
  }
  return ok(out);
}

/** A JS object → the blobmsg list of a ubus DATA attribute (a table's inside). */
export function toBlobmsg(table: JsTable, policy?: Policy): Result<BlobmsgNode[], ValueReason> {
  if (!isPlainObject(table)) return fail('unsupported-value');
  return tableNodes(table, policy, 1, { nodes: blobmsgNodesMax });
}

function nodeValue(node: BlobmsgNode): JsValue {
  switch (node.type) {
    case 'table':
      return fromBlobmsg(node.children);
    case 'array':
      return node.children.map(nodeValue);
    case 'int8':
      return node.value !== 0;
    case 'int64':
      return Number.isSafeInteger(Number(node.value)) ? Number(node.value) : node.value;
    case 'unspec':
      return node.value.length === 0 ? null : node.value;
    default:
      return node.value;
  }
}

/** A blobmsg list → a JS object (blobmsg_format_json: int8 prints as a boolean). Depth is bounded by decode. */
export function fromBlobmsg(nodes: readonly BlobmsgNode[]): { [key: string]: JsValue } {
  const out: { [key: string]: JsValue } = {};
  for (const node of nodes) out[node.name] = nodeValue(node);
  return out;
}

const policyTypes: Record<ArgType, BlobmsgTypeName> = {
  unspec: 'unspec',
  array: 'array',
  table: 'table',
  string: 'string',
  int64: 'int64',
  int32: 'int32',
  int16: 'int16',
  int8: 'int8',
  bool: 'int8',
  double: 'double',
};

/**
 * Arguments of an incoming call, checked against the method's policy the way blobmsg_parse does, but strict:
 * a declared argument of another type is refused ('argument-type') instead of being silently dropped.
 */
export function argumentsFromBlobmsg(
  nodes: readonly BlobmsgNode[],
  policy: Policy,
): Result<{ [key: string]: JsValue }, ValueReason> {
  const out: { [key: string]: JsValue } = {};
  for (const node of nodes) {
    const declared = Object.hasOwn(policy, node.name) ? policy[node.name] : undefined;
    if (declared !== undefined && declared !== 'unspec' && policyTypes[declared] !== node.type)
      return fail('argument-type');
    out[node.name] = declared === 'int8' && node.type === 'int8' ? node.value : nodeValue(node);
  }
  return ok(out);
}

export const blobmsgTypeOfArg = (type: ArgType): BlobmsgTypeName => policyTypes[type];

/** Signature entries are int32 blobmsg type codes; `bool` is int8 (7) on the wire, read back as 'int8'. */
export function argTypeFromCode(code: number): ArgType | null {
  const names: readonly ArgType[] = ['unspec', 'array', 'table', 'string', 'int64', 'int32', 'int16', 'int8', 'double'];
  return names[code] ?? null;
}
