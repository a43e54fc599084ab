// Trace ids and the one-line text forms of observations, decisions and actions: the same lines appear in
// the golden traces (test/mapek/golden), in events and in logs, so they read the same everywhere.
import type { Action, Decision, Observation } from './types.js';

/** W3C trace-context trace-id: 32 lowercase hex digits, not all zero. */
export function isTraceId(s: string): boolean {
  return /^[0-9a-f]{32}$/.test(s) && !/^0+$/.test(s);
}

export function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** Milliseconds as '850ms' or '12.3s'. */
export function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}

export function fmtRate(perSecond: number): string {
  return String(Math.round(perSecond));
}

/** Seconds with millisecond precision, for the left column of a trace. */
export function fmtAt(ms: number): string {
  return `${(ms / 1000).toFixed(3)}s`;
}

export function formatAction(a: Action): string {
  switch (a.kind) {
    case 'link-down':
    case 'link-up':
      return `${a.kind} ${a.iface} (neighbour ${a.neighbour})`;
    case 'retune': {
      const settings = Object.keys(a.settings)
        .sort()
        .map((k) => `${k}=${a.settings[k]}`)
        .join(',');
      return `retune ${a.iface} ${settings}`;
    }
    case 'restore-tuning':
    case 'bounce-interface':
      return `${a.kind} ${a.iface}`;
    case 'rate-limit':
      return `rate-limit ${a.mac} to ${a.pps} pps`;
    case 'isolate':
    case 'lift':
      return `${a.kind} ${a.mac}`;
    case 'transfer-leadership':
      return `transfer-leadership from ${a.from}`;
    case 'restart-component':
      return `restart-component ${a.name}`;
  }
}

export function formatDecision(d: Decision): string {
  const choice = d.choice === null ? '' : `; chose ${d.choice}`;
  return `${d.symptom} [${d.rule}] -> ${formatAction(d.action)} (trace ${d.traceId.slice(0, 8)}) because ${d.why}${choice}`;
}

export function formatObservation(o: Observation): string {
  switch (o.kind) {
    case 'neighbour':
      return `neighbour ${o.neighbour} on ${o.iface} ${o.alive ? 'alive' : 'DEAD'} rtt=${o.rttMs ?? '-'} tq=${o.tq ?? '-'}`;
    case 'xdp':
      return `xdp ${o.mac} packets=${o.packets} dropped=${o.dropped} ogms=${o.ogms}`;
    case 'auth-failure':
      return `auth-failure mac=${o.mac ?? '-'} peer=${o.peer ?? '-'} ${o.reason}`;
    case 'component':
      return `component ${o.name} ${o.state}`;
    case 'raft':
      return `raft ${o.self} ${o.role} term=${o.term} leader=${o.leader ?? '-'}${o.selfDegraded ? ' DEGRADED' : ''}`;
    case 'gossip':
      return `gossip rounds=${o.rounds} rejections=${o.rejections}`;
  }
}
