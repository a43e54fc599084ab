// `x0 ubus call OBJECT METHOD [JSON]` and `x0 ubus list [-v] [PATH]`: the ubus CLI's two most used commands over
// our own client, with its output format and its exit codes (the ubus status of the failed request).
import type { Platform } from '../platform/types.js';
import { UbusConnection, defaultSocketPath } from '../ubus/connection.js';
import { Status, statusText } from '../ubus/message.js';
import type { JsTable, JsValue } from '../ubus/values.js';

export const ubusHelp = `usage: x0 ubus [--socket PATH] [--timeout SECONDS] call OBJECT METHOD [JSON]
       x0 ubus [--socket PATH] [--timeout SECONDS] list [-v] [PATH]

Talks to ubusd over its Unix socket (default ${defaultSocketPath}) like OpenWrt's ubus command:
  call   look OBJECT up, invoke METHOD with the JSON object as arguments, print the reply as JSON
  list   print object paths; -v adds each object's id and method signatures; PATH may end in '*'
Exit 0 on success, the ubus status code on a failed request (3 method not found, 4 not found, 7 timeout,
10 connection failed), 2 on bad arguments.
`;

const typeNames: Record<number, string> = {
  1: 'Array',
  2: 'Table',
  3: 'String',
  4: 'Integer',
  5: 'Integer',
  6: 'Integer',
  7: 'Boolean',
  8: 'Number',
};

function reasonStatus(reason: string): number {
  const match = /^status-(\d+)$/.exec(reason);
  if (match) return Number(match[1]);
  if (reason === 'timeout') return Status.timeout;
  if (reason === 'connect-timeout' || reason.startsWith('connection')) return Status.connectionFailed;
  return Status.unknownError;
}

function failed(platform: Platform, reason: string): number {
  const status = reasonStatus(reason);
  platform.stderr(`Command failed: ${statusText[status] ?? `Unknown error: ${status}`} (${reason})\n`);
  return status;
}

function usage(platform: Platform, message: string): number {
  platform.stderr(`x0 ubus: ${message}\n\n${ubusHelp}`);
  return 2;
}

function json(value: JsValue): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => (typeof v === 'bigint' ? Number(v) : v instanceof Uint8Array ? null : v),
    '\t',
  );
}

interface Options {
  socket: string;
  timeoutMs: number;
  rest: string[];
}

function parseOptions(args: readonly string[]): Options | string {
  const options: Options = { socket: defaultSocketPath, timeoutMs: 30_000, rest: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--socket' || arg === '-s') options.socket = args[++i] ?? '';
    else if (arg === '--timeout' || arg === '-t') options.timeoutMs = Number(args[++i]) * 1000;
    else options.rest.push(arg);
  }
  if (options.socket === '') return '--socket needs a path';
  if (!(options.timeoutMs > 0 && options.timeoutMs <= 600_000)) return '--timeout needs 1..600 seconds';
  return options;
}

async function list(platform: Platform, connection: UbusConnection, args: string[]): Promise<number> {
  const verbose = args[0] === '-v';
  const path = verbose ? args[1] : args[0];
  const found = await connection.lookup(path);
  if (!found.ok) return failed(platform, found.reason);
  for (const object of found.value) {
    if (!verbose) {
      platform.stdout(`${object.path}\n`);
      continue;
    }
    platform.stdout(`'${object.path}' @${object.id.toString(16).padStart(8, '0')}\n`);
    for (const [method, policy] of Object.entries(object.signature)) {
      const argsText = Object.entries(policy)
        .map(([name, type]) => `"${name}":"${typeNames[type] ?? '(unknown)'}"`)
        .join(',');
      platform.stdout(`\t"${method}":{${argsText}}\n`);
    }
  }
  return 0;
}

async function call(platform: Platform, connection: UbusConnection, args: string[]): Promise<number> {
  const [object, method, text] = args;
  if (object === undefined || method === undefined || args.length > 3)
    return usage(platform, 'call needs OBJECT METHOD [JSON]');
  let params: JsTable = {};
  if (text !== undefined) {
    try {
      params = JSON.parse(text) as JsTable;
    } catch {
      return usage(platform, 'Failed to parse message data: not JSON');
    }
    if (typeof params !== 'object' || params === null || Array.isArray(params))
      return usage(platform, 'Failed to parse message data: not a JSON object');
  }
  const result = await connection.call(object, method, params);
  if (!result.ok) return failed(platform, result.reason);
  for (const data of result.value.data) platform.stdout(`${json(data)}\n`);
  return result.value.status === Status.ok ? 0 : failed(platform, `status-${result.value.status}`);
}

export async function ubusCommand(platform: Platform, args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h') || args.length === 0) {
    platform.stdout(ubusHelp);
    return args.length === 0 ? 2 : 0;
  }
  const options = parseOptions(args);
  if (typeof options === 'string') return usage(platform, options);
  const [command, ...rest] = options.rest;
  if (command !== 'call' && command !== 'list') return usage(platform, `unknown command '${command ?? ''}'`);
  const connection = new UbusConnection(platform, { path: options.socket, requestTimeoutMs: options.timeoutMs });
  try {
    const started = await connection.start(Math.min(options.timeoutMs, 5_000));
    if (!started.ok) {
      platform.stderr(`Failed to connect to ubus at ${options.socket}\n`);
      return Status.connectionFailed;
    }
    return command === 'call' ? await call(platform, connection, rest) : await list(platform, connection, rest);
  } finally {
    connection.close();
  }
}
