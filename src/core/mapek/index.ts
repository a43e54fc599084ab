// The MAPE-K core's public surface.
export { Mapek } from './mapek.js';
export { loadKnowledge } from './knowledge.js';
export { mapekLimits } from './limits.js';
export { catalogue, verifiedBy } from './plan.js';
export { formatAction, formatDecision, formatObservation, isTraceId } from './trace.js';
export * from './types.js';
