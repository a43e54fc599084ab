import * as dgram from 'node:dgram';
import * as net from 'node:net';
import type {
  ByteStream,
  HostPort,
  Net,
  StreamHandlers,
  StreamListener,
  StreamTarget,
  UdpHandlers,
  UdpSocket,
} from '../types.js';

const errnoName = (error: unknown) => (error as NodeJS.ErrnoException).code ?? 'EIO';
const toBytes = (buffer: Buffer) => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);

function udpBind(local: HostPort, handlers: UdpHandlers): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(local.host) ? 'udp6' : 'udp4');
    socket.once('error', (error) => reject(new Error(errnoName(error))));
    socket.bind(local.port, local.host, () => {
      socket.removeAllListeners('error');
      socket.on('error', (error) => handlers.onError?.(errnoName(error)));
      socket.on('message', (data, from) => handlers.onMessage(toBytes(data), { host: from.address, port: from.port }));
      const address = socket.address();
      resolve({
        local: { host: address.address, port: address.port },
        send(data, to) {
          try {
            socket.send(data, to.port, to.host);
            return null;
          } catch (error) {
            return errnoName(error);
          }
        },
        close: () => socket.close(),
      });
    });
  });
}

function wrapStream(socket: net.Socket, handlers: StreamHandlers): ByteStream {
  let closed = false;
  let error: string | null = null;
  socket.on('data', (chunk: Buffer) => handlers.onData(toBytes(chunk)));
  socket.on('error', (e) => {
    error = errnoName(e);
  });
  socket.on('close', () => {
    if (closed) return;
    closed = true;
    handlers.onClose(error);
  });
  return {
    write: (data) => {
      if (!socket.destroyed) socket.write(data);
    },
    get queuedBytes() {
      return socket.writableLength;
    },
    close: () => {
      socket.end();
      socket.destroySoon();
    },
  };
}

function connect(target: StreamTarget, handlers: StreamHandlers): Promise<ByteStream> {
  return new Promise((resolve, reject) => {
    const socket = target.kind === 'tcp' ? net.connect(target.port, target.host) : net.connect(target.path);
    socket.once('error', (error) => reject(new Error(errnoName(error))));
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(wrapStream(socket, handlers));
    });
  });
}

function listen(
  target: StreamTarget,
  onAccept: (stream: ByteStream, peer: HostPort) => StreamHandlers,
): Promise<StreamListener> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => {
      const peer = { host: socket.remoteAddress ?? target.kind, port: socket.remotePort ?? 0 };
      // The stream exists before its handlers do; route events through a late-bound holder.
      let handlers: StreamHandlers | null = null;
      const stream = wrapStream(socket, {
        onData: (chunk) => handlers?.onData(chunk),
        onClose: (reason) => handlers?.onClose(reason),
      });
      handlers = onAccept(stream, peer);
    });
    server.once('error', (error) => reject(new Error(errnoName(error))));
    const ready = () => {
      server.removeAllListeners('error');
      const address = server.address();
      const local =
        typeof address === 'object' && address !== null
          ? { host: address.address, port: address.port }
          : { host: String(address), port: 0 };
      resolve({ local, close: () => server.close() });
    };
    if (target.kind === 'tcp') server.listen(target.port, target.host, ready);
    else server.listen(target.path, ready);
  });
}

export function createNodeNet(): Net {
  return { udpBind, connect, listen };
}
