/**
 * Which network addresses Hookline may send to. By default only public unicast addresses:
 * loopback, private, link-local (cloud metadata), CGNAT, multicast, reserved and other special
 * ranges, IPv4 or IPv6 (IPv4-mapped included), are refused, so a webhook URL cannot turn
 * Hookline against the network it runs in. HOOKLINE_ALLOW_PRIVATE_NETWORKS opens them all
 * ("1") or some (a list of CIDRs), for development and tests.
 *
 * URLs are checked when saved (their host's current addresses) and again at send time, by
 * the HTTP agents (guarded-agents.ts) on the address actually connected to (DNS answers can
 * change in between). ipaddr.js classifies the addresses.
 */
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { ValidationError } from '../domain/errors.js';

export interface AddressPolicySettings {
  /** true: every address is allowed; otherwise the CIDRs (or single addresses) allowed besides public ones. */
  allowPrivateNetworks: true | readonly string[];
}

/** Reads HOOKLINE_ALLOW_PRIVATE_NETWORKS: "1"/"true" for all, or a comma-separated list of CIDRs. */
export function parseAllowPrivateNetworks(value: string | undefined): true | string[] {
  const trimmed = value?.trim() ?? '';
  if (trimmed === '1' || trimmed.toLowerCase() === 'true') return true;
  if (!trimmed || trimmed === '0' || trimmed.toLowerCase() === 'false') return [];
  return trimmed.split(',').map((entry) => {
    const cidr = entry.trim();
    try {
      if (cidr.includes('/')) ipaddr.parseCIDR(cidr);
      else ipaddr.parse(cidr);
    } catch {
      throw new Error(`HOOKLINE_ALLOW_PRIVATE_NETWORKS has "${cidr}", which is neither an address nor a CIDR such as 10.0.0.0/8`);
    }
    return cidr;
  });
}

export class AddressPolicy {
  private readonly allowedRanges: [ipaddr.IPv4 | ipaddr.IPv6, number][];

  constructor(readonly settings: AddressPolicySettings) {
    const list = settings.allowPrivateNetworks === true ? [] : settings.allowPrivateNetworks;
    this.allowedRanges = list.map((entry) => (entry.includes('/') ? ipaddr.parseCIDR(entry) : [ipaddr.parse(entry), ipaddr.parse(entry).kind() === 'ipv4' ? 32 : 128]));
  }

  get allowsEverything(): boolean {
    return this.settings.allowPrivateNetworks === true;
  }

  /** null when the address may be used, or the reason it may not. */
  refusalFor(address: string): string | null {
    if (this.allowsEverything) return null;
    let parsed: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      parsed = ipaddr.parse(address);
    } catch {
      return `"${address}" is not an IP address`;
    }
    // ::ffff:10.0.0.1 is 10.0.0.1: judge (and allow) it as the IPv4 address it stands for.
    if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
    if (this.allowedRanges.some(([range, bits]) => range.kind() === parsed.kind() && parsed.match(range, bits))) return null;
    const range = parsed.range();
    return range === 'unicast' ? null : `${address} is in a ${range} range`;
  }

  /**
   * Refuses a URL whose host is, or now resolves to, an address that may not be used. A host
   * that does not resolve yet is accepted: the send-time check still applies. Hosts made of
   * {{tokens}} are checked at send time only.
   */
  async assertAllowedUrl(url: string, field: string): Promise<void> {
    if (this.allowsEverything) return;
    let host: string;
    try {
      host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    } catch {
      return; // Syntax is validateUrl's job.
    }
    if (!host || host.includes('{{') || url.split('/')[2]?.includes('{{')) return;
    const addresses = net.isIP(host) ? [host] : await lookup(host, { all: true, verbatim: true }).then((found) => found.map((entry) => entry.address), () => []);
    for (const address of addresses) {
      const refusal = this.refusalFor(address);
      if (refusal) {
        throw new ValidationError(`${field} points at ${host}, and ${refusal}: Hookline does not send to private or reserved networks (see HOOKLINE_ALLOW_PRIVATE_NETWORKS)`, { field });
      }
    }
  }
}
