// The agent's ubus object `x0tta6bl4` on ubusd (LuCI through rpcd, `ubus call`). ubusd not running yet (early boot)
// or restarted is a degraded agent that keeps reconnecting; a registration ubusd refuses (the name is taken by
// another process) is an error: logged as such, and the component goes down so the supervisor retries it with
// backoff. Connection loss and recovery are logged.
import { registerAgentObject, type AgentProvider } from '../../ubus/agent-object.js';
import { UbusConnection } from '../../ubus/connection.js';
import { degraded, down, up, type Component } from '../component.js';
import type { AgentContext } from '../context.js';
import type { Health } from '../supervisor.js';

const connectWaitMs = 1_000;

export class UbusComponent implements Component {
  readonly name = 'ubus';
  private connection: UbusConnection | null = null;
  private state: Health = down('not-started');
  private calls = 0;

  constructor(
    private readonly ctx: AgentContext,
    private readonly provider: AgentProvider,
  ) {}

  async start(): Promise<Health> {
    const { platform, config, journal } = this.ctx;
    const connection = new UbusConnection(platform, { path: config.ubusSocket, reconnect: true });
    this.connection = connection;
    this.state = degraded('ubusd-unreachable');
    connection.onEvent((event) => {
      if (this.connection !== connection) return;
      if (event.kind === 'ready') journal.record('info', this.name, 'connected', { socket: config.ubusSocket });
      if (event.kind === 'lost') {
        journal.record('warn', this.name, 'connection-lost', { reason: event.reason, socket: config.ubusSocket });
        this.state = degraded('ubusd-unreachable');
      }
      if (event.kind === 'registered') {
        journal.record('info', this.name, 'registered', { object: 'x0tta6bl4', socket: config.ubusSocket });
        this.state = up;
      }
      if (event.kind === 'registration-failed') {
        journal.record('error', this.name, 'registration-refused', {
          reason: event.reason,
          object: 'x0tta6bl4',
          hint: 'another process holds the name x0tta6bl4 (a second agent?)',
        });
        this.state = down(`registration-refused:${event.reason}`);
      }
    });
    const counted = countCalls(this.provider, () => this.calls++);
    const added = registerAgentObject(connection, counted);
    if (!added.ok) return down(`object-definition:${added.reason}`);
    const started = await connection.start(connectWaitMs);
    if (!started.ok)
      journal.record('warn', this.name, 'not-reachable', {
        reason: started.reason,
        socket: config.ubusSocket,
        next: 'retrying in the background; is ubusd running?',
      });
    return this.state;
  }

  stop(): void {
    this.connection?.close();
    this.connection = null;
    this.state = down('stopped');
  }

  health(): Health {
    return this.state;
  }

  metrics(): Record<string, number> {
    return { calls: this.calls };
  }
}

function countCalls(provider: AgentProvider, count: () => void): AgentProvider {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(provider)) {
    wrapped[name] =
      typeof fn === 'function'
        ? (...args: unknown[]) => {
            count();
            return (fn as (...a: unknown[]) => unknown).apply(provider, args);
          }
        : fn;
  }
  return wrapped as unknown as AgentProvider;
}
