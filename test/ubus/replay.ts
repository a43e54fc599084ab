// Drives a UbusClient through one captured scenario: the captured ubusd bytes go in, and every byte the client
// writes must equal what the real program (ubus CLI or rpcd) wrote, in the same place relative to ubusd's
// messages. Actions stand in for what the real program decided to do before a given write.
import { UbusClient, type ClientEvent } from '../../src/ubus/client.js';
import { captures, concat, fromHex, toHex } from './capture-lib.js';

export interface ReplayContext {
  readonly client: UbusClient;
  /** Every event the client produced so far. */
  readonly events: ClientEvent[];
}

export interface Scenario {
  readonly label: string;
  /** Run before the client's n-th captured write (0-based) is compared. */
  readonly actions?: Readonly<Record<number, (context: ReplayContext) => void>>;
}

export interface ReplayResult {
  readonly events: ClientEvent[];
  readonly client: UbusClient;
  /** Captured client writes that were matched byte for byte. */
  readonly matchedWrites: number;
  readonly mismatch: string | null;
}

export function replay(scenario: Scenario): ReplayResult {
  let now = 0;
  const client = new UbusClient({ nowMs: () => now });
  const events: ClientEvent[] = [];
  const context = { client, events };
  const lines = captures.filter((c) => c.label === scenario.label);
  let written: Uint8Array = new Uint8Array(0);
  let writeIndex = 0;
  const collect = () => {
    written = concat([written, ...client.takeOutput()]);
    events.push(...client.takeEvents());
  };
  client.connected();
  for (const line of lines) {
    now += 1;
    if (line.dir === 'ubusd->client') {
      collect();
      if (written.length > 0)
        return {
          events,
          client,
          matchedWrites: writeIndex,
          mismatch: `before ubusd's ${line.hex.slice(0, 24)}… the client wrote extra ${toHex(written)}`,
        };
      client.receive(fromHex(line.hex));
      collect();
      continue;
    }
    scenario.actions?.[writeIndex]?.(context);
    collect();
    const expected = fromHex(line.hex);
    const actual = written.subarray(0, expected.length);
    if (toHex(actual) !== line.hex)
      return {
        events,
        client,
        matchedWrites: writeIndex,
        mismatch: `write ${writeIndex}: expected ${line.hex}\n got ${toHex(actual)}`,
      };
    written = written.slice(expected.length);
    writeIndex++;
  }
  collect();
  const mismatch = written.length > 0 ? `the client wrote extra ${toHex(written)} at the end` : null;
  return { events, client, matchedWrites: writeIndex, mismatch };
}
