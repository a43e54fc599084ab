// The engine-neutral globals the pure code may use, as both engines provide them: Node natively, QuickJS-ng through
// src/platform/qjs/polyfills.ts (UTF-8 only). Used by tsconfig.core.json (types: []), which type-checks the pure
// code without Node's types; tsconfig.json excludes this file because @types/node declares the same globals.

interface TextEncoder {
  readonly encoding: string;
  encode(input?: string): Uint8Array<ArrayBuffer>;
  encodeInto(input: string, destination: Uint8Array): { read: number; written: number };
}
declare var TextEncoder: {
  prototype: TextEncoder;
  new (): TextEncoder;
};

interface TextDecoder {
  readonly encoding: string;
  readonly fatal: boolean;
  readonly ignoreBOM: boolean;
  decode(input?: ArrayBuffer | ArrayBufferView): string;
}
declare var TextDecoder: {
  prototype: TextDecoder;
  new (label?: 'utf-8' | 'utf8', options?: { fatal?: boolean; ignoreBOM?: boolean }): TextDecoder;
};
