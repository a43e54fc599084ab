// Every limit of the MQTT client, with its unit. Relationships are checked once by validateLimits().

/** MQTT's own ceiling on Remaining Length (§1.5.5: four varint bytes). */
export const remainingLengthMax = 268_435_455;
/** Our ceiling on one packet either way (v5 announces it as Maximum Packet Size); telemetry is ~1 KB. */
export const packetBytesMaxDefault = 256 * 1024;
/** Bytes of a topic name or filter (the wire allows 65535; ours are ~60). */
export const topicBytesMax = 1024;
/** Levels of a topic (x0/<mesh>/<node>/cmd/<name> is 5). */
export const topicLevelsMax = 32;
/** v5 properties in one packet (user properties count one each). */
export const propertiesMax = 64;
/** Subscriptions this client keeps (and re-sends after a session loss). */
export const subscriptionsMax = 16;

/** QoS 1 PUBLISHes sent and not yet acknowledged (lowered to the broker's Receive Maximum). */
export const inflightMaxDefault = 32;
/** An acknowledgement this late means the link is dead: close, reconnect, resend (MQTT 5 §4.4). */
export const ackTimeoutMsDefault = 20_000;
/** Keep Alive announced in CONNECT, in seconds. */
export const keepAliveSDefault = 60;
/** Time from opening the transport to CONNACK. */
export const connectTimeoutMsDefault = 10_000;
/** A PINGRESP later than this after a PINGREQ closes the connection. */
export const pingTimeoutMsMax = 15_000;

/** Reconnect backoff: first delay, ceiling, and the factor between attempts (jittered, see client.ts). */
export const backoffMinMsDefault = 500;
export const backoffMaxMsDefault = 60_000;

/** Offline queue: messages and payload bytes kept while the broker is unreachable (oldest dropped). */
export const queueMessagesMaxDefault = 1_000;
export const queueBytesMaxDefault = 512 * 1024;
/** Flash writes of the queue: at most one per interval, only when it changed (NAND wears out). */
export const persistIntervalMsDefault = 60_000;
/** Bytes read back from a persisted queue (a corrupted file larger than this is refused unread). */
export const persistBytesMax = queueBytesMaxDefault + 64 * 1024;

/** Bytes queued towards the socket before the connection is treated as stuck. */
export const outputQueueBytesMax = 1024 * 1024;

export function validateLimits(): void {
  if (!(packetBytesMaxDefault <= remainingLengthMax))
    throw new Error('mqtt limits: packet ceiling within the protocol');
  if (!(topicBytesMax < 65_536)) throw new Error('mqtt limits: topics fit a 2-byte length');
  if (!(inflightMaxDefault < 65_535)) throw new Error('mqtt limits: packet ids for the window');
  if (!(backoffMinMsDefault > 0 && backoffMinMsDefault < backoffMaxMsDefault))
    throw new Error('mqtt limits: backoff range');
  if (!(persistBytesMax > queueBytesMaxDefault)) throw new Error('mqtt limits: a full queue can be read back');
}
validateLimits();
