import { describe, expect, it } from 'vitest';
import { embeddedIpv4, refusedAddress, resolveTarget } from './ssrf';

const own = new Set(['192.0.2.10', '2001:db8:0:0:0:0:0:10']);

describe('webhook targets (SSRF)', () => {
  it('refuses loopback, unspecified, link-local and multicast, IPv4 and IPv6', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '0.0.0.0', '169.254.169.254', '224.0.0.1', '::1', '::', 'fe80::1', 'fe80::1%eth0', 'ff02::1', '[::1]']) {
      expect(refusedAddress(a, own), a).not.toBeNull();
    }
  });

  it("refuses the host's own addresses, however written", () => {
    expect(refusedAddress('192.0.2.10', own)).toMatch(/Hangar host itself/);
    expect(refusedAddress('2001:db8::10', own)).toMatch(/Hangar host itself/);
    expect(refusedAddress('::ffff:192.0.2.10', own)).toMatch(/Hangar host itself/);
  });

  it('sees IPv4 inside IPv6: mapped (dotted or hex) and compatible forms', () => {
    expect(embeddedIpv4('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(embeddedIpv4('::ffff:7f00:1')).toBe('127.0.0.1');
    expect(embeddedIpv4('0:0:0:0:0:ffff:a9fe:a9fe')).toBe('169.254.169.254');
    expect(embeddedIpv4('::127.0.0.1')).toBe('127.0.0.1');
    expect(embeddedIpv4('::1')).toBeNull();
    expect(embeddedIpv4('2001:db8::1')).toBeNull();
    for (const a of ['::ffff:127.0.0.1', '::ffff:7f00:1', '[::ffff:a9fe:a9fe]', '::127.0.0.1']) expect(refusedAddress(a, own), a).not.toBeNull();
  });

  it('lets public and private-network addresses through', () => {
    for (const a of ['93.184.216.34', '10.1.2.3', '192.168.1.5', '2606:4700::1111', '::ffff:8.8.8.8']) expect(refusedAddress(a, own), a).toBeNull();
  });

  it('reads decimal, hex and short IPv4 forms in URLs as the address they are (WHATWG URL), and refuses them', async () => {
    for (const url of ['http://2130706433/', 'http://0x7f000001/', 'http://0x7f.1/', 'http://127.1/', 'http://017700000001/', 'http://[::ffff:127.0.0.1]/']) {
      await expect(resolveTarget(url, false), url).rejects.toThrow(/loopback/);
    }
    await expect(resolveTarget('http://localhost:9/', false)).rejects.toThrow(/loopback|host itself/);
    await expect(resolveTarget('ftp://example.com/', false)).rejects.toThrow(/http or https only/);
  });

  it('lets an admin allow private targets', async () => {
    const t = await resolveTarget('http://127.0.0.1:8080/hook', true);
    expect(t).toMatchObject({ address: '127.0.0.1', family: 4 });
  });
});
