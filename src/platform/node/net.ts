import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { loadTlsMaterial } from '../tls.js';
import type {
  ByteStream,
  HostPort,
  Net,
  StreamHandlers,
  StreamListener,
  StreamTarget,
  TlsOptions,
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

// node:tls's verification errors (OpenSSL's names) -> the Platform's reason codes, as x0:tls reports them.
const tlsReasons: Record<string, string> = {
  CERT_HAS_EXPIRED: 'cert-expired',
  CERT_NOT_YET_VALID: 'cert-not-yet-valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname-mismatch',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'cert-untrusted',
  UNABLE_TO_GET_ISSUER_CERT: 'cert-untrusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'cert-untrusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'cert-untrusted',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'cert-untrusted',
  CERT_SIGNATURE_FAILURE: 'cert-untrusted',
  CERT_UNTRUSTED: 'cert-untrusted',
  CERT_REJECTED: 'cert-untrusted',
  CERT_REVOKED: 'cert-untrusted',
  INVALID_CA: 'cert-untrusted',
  INVALID_PURPOSE: 'cert-untrusted',
};

export function tlsReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (tlsReasons[code] !== undefined) return tlsReasons[code];
  // A socket error (ECONNRESET, ...) stays an errno name; OpenSSL's own failures are one reason.
  if (/^E[A-Z]+$/.test(code) && code !== 'EPROTO') return code;
  if (code === 'ERR_OSSL_PEM_NO_START_LINE' || code.startsWith('ERR_OSSL_X509')) return 'tls-cert-invalid';
  return 'handshake-failed';
}

function readFile(path: string): Uint8Array | null {
  try {
    return fs.readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function connectTls(target: { host: string; port: number }, options: TlsOptions): tls.TLSSocket | string {
  const material = loadTlsMaterial(readFile, options, target.host);
  if (!material.ok) return material.reason;
  const { ca, cert, key, serverName } = material.value;
  // node:tls skips what is not a PEM certificate in `ca` without a word; mbedtls refuses it: so do we.
  if (!Buffer.from(ca).includes('-----BEGIN CERTIFICATE-----')) return 'tls-ca-invalid';
  try {
    return tls.connect({
      host: target.host,
      port: target.port,
      ca: Buffer.from(ca),
      ...(cert && key ? { cert: Buffer.from(cert), key: Buffer.from(key) } : {}),
      // SNI carries host names only (RFC 6066 §3); an address is still what the certificate is checked against.
      ...(net.isIP(serverName) === 0 ? { servername: serverName } : {}),
      checkServerIdentity: (_host, certificate) => tls.checkServerIdentity(serverName, certificate),
      rejectUnauthorized: true,
    });
  } catch (error) {
    // node:tls parses the CA, certificate and key before connecting: one that is not PEM throws here.
    return tlsReason(error) === 'tls-cert-invalid' ? 'tls-ca-invalid' : tlsReason(error);
  }
}

function connect(target: StreamTarget, handlers: StreamHandlers): Promise<ByteStream> {
  return new Promise((resolve, reject) => {
    if (target.kind === 'tcp' && target.tls !== undefined) {
      const socket = connectTls(target, target.tls);
      if (typeof socket === 'string') return reject(new Error(socket));
      socket.once('error', (error) => reject(new Error(tlsReason(error))));
      socket.once('secureConnect', () => {
        socket.removeAllListeners('error');
        resolve(wrapStream(socket, handlers));
      });
      return;
    }
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
