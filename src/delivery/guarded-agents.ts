/**
 * HTTP(S) agents that connect only where the address policy allows. The check runs on the
 * address actually connected to: a literal IP host is checked before connecting, and a host
 * name's DNS answers are checked inside the connection's own lookup, so an answer that
 * changed since the URL was saved (DNS rebinding) is caught too.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { AddressPolicy } from './address-policy.js';

export class AddressNotAllowedError extends Error {
  readonly code = 'ADDRESS_NOT_ALLOWED';
  constructor(readonly host: string, readonly reason: string) {
    super(`destination ${host} is a private or reserved address: not sent (${reason}; see HOOKLINE_ALLOW_PRIVATE_NETWORKS)`);
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

function guardedLookup(policy: AddressPolicy): net.LookupFunction {
  return ((hostname: string, options: dns.LookupOptions, callback: LookupCallback) => {
    dns.lookup(hostname, { ...options }, (error, address, family) => {
      if (error) return callback(error, address as string, family);
      const addresses = Array.isArray(address) ? address.map((entry) => entry.address) : [address];
      for (const candidate of addresses) {
        const refusal = policy.refusalFor(candidate);
        if (refusal) return callback(new AddressNotAllowedError(hostname, refusal) as NodeJS.ErrnoException, address, family);
      }
      callback(null, address, family);
    });
  }) as net.LookupFunction;
}

type ConnectionCallback = (error: Error | null, socket: Duplex) => void;

function guardConnection(policy: AddressPolicy, options: net.NetConnectOpts & { host?: string }, callback: ConnectionCallback | undefined) {
  const host = (options.host ?? '').replace(/^\[|\]$/g, '');
  if (net.isIP(host)) {
    const refusal = policy.refusalFor(host);
    if (refusal) {
      // As a failed connect does: the agent hears of the error through the callback (or the socket).
      const socket = new net.Socket();
      const error = new AddressNotAllowedError(host, refusal);
      if (callback) callback(error, socket);
      else socket.destroy(error);
      return { refused: socket };
    }
  }
  return { options: { ...options, lookup: guardedLookup(policy) } };
}

export class GuardedHttpAgent extends http.Agent {
  constructor(private readonly policy: AddressPolicy, options: http.AgentOptions) {
    super(options);
  }

  override createConnection(options: net.NetConnectOpts, callback?: ConnectionCallback): Duplex | null | undefined {
    const guarded = guardConnection(this.policy, options, callback);
    return guarded.refused ?? super.createConnection(guarded.options!, callback);
  }
}

export class GuardedHttpsAgent extends https.Agent {
  constructor(private readonly policy: AddressPolicy, options: https.AgentOptions) {
    super(options);
  }

  override createConnection(options: net.NetConnectOpts, callback?: ConnectionCallback): Duplex | null | undefined {
    const guarded = guardConnection(this.policy, options, callback);
    return guarded.refused ?? super.createConnection(guarded.options!, callback);
  }
}
