// Every limit on what comes from ubusd or a caller, with its unit. Checked once at start-up by validateLimits().

/** libubus's UBUS_MAX_MSGLEN: the largest message (header excluded) either side accepts. */
export const maxMessageBytes = 1_048_576;
/** Bytes of an unfinished message kept while waiting for the rest (one message at most). */
export const receiveBufferBytesMax = maxMessageBytes + 12;
/** Nesting of blobmsg tables/arrays; blobmsg_json has no limit, we refuse deeper input rather than recurse. */
export const blobmsgDepthMax = 16;
/** Attributes in one message or in one blobmsg table/array, counted over the whole tree. */
export const blobmsgNodesMax = 20_000;
/** Bytes of one blobmsg name (the format allows 65535; ubus names are short). */
export const nameBytesMax = 255;

/** Requests (lookup, invoke, add object, ...) waiting for their STATUS at once. */
export const inflightRequestsMax = 64;
/** DATA messages one request may collect (a full `ubus list` on a busy router is ~100 objects). */
export const replyDataMessagesMax = 1024;
/** Default time a request may wait for its STATUS. */
export const requestTimeoutMsDefault = 30_000;
/** Time from connect to ubusd's HELLO. */
export const helloTimeoutMs = 5_000;
/** Incoming INVOKEs on our objects whose handler has not answered yet. */
export const pendingInvokesMax = 32;
/** Incoming INVOKEs past pendingInvokesMax that wait for a free handler slot; past this they are refused. */
export const queuedInvokesMax = 128;
/** A handler that has not answered after this long is answered with UBUS_STATUS_TIMEOUT. */
export const handlerTimeoutMs = 10_000;

/** Objects this client registers (the agent's own, event listeners, subscribers). */
export const objectsMax = 64;
/** Methods of one object and arguments of one method. */
export const methodsPerObjectMax = 64;
export const argumentsPerMethodMax = 32;

/** Bytes queued towards ubusd before the connection is treated as stuck and reset. */
export const outputQueueBytesMax = 4 * maxMessageBytes;
/** Wait between reconnect attempts (libubus's ubus_auto_connect uses 1 s). */
export const reconnectDelayMs = 1_000;

export function validateLimits(): void {
  if (!(receiveBufferBytesMax > maxMessageBytes)) throw new Error('ubus limits: receive buffer must hold one message');
  if (!(handlerTimeoutMs < requestTimeoutMsDefault))
    throw new Error('ubus limits: a handler must time out before its caller');
  if (!(blobmsgDepthMax >= 4)) throw new Error('ubus limits: signatures need depth 3 (signature/method/argument)');
  if (!(nameBytesMax < 65_536)) throw new Error('ubus limits: blobmsg names are at most 65535 bytes');
}
validateLimits();
/** Chunks read before connect() hands over its stream, kept until it does (ubusd's hello is one). */
export const earlyChunksMax = 16;
