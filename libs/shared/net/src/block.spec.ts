import { blockCovers, IpBlock, ipBlockMatcher, parseIpBlock } from './block';
import { hostBitsCleared } from './ip';

const block = (text: string): IpBlock => {
  const parsed = parseIpBlock(text);
  if ('problem' in parsed) throw new Error(`${text}: ${parsed.problem}`);
  return parsed;
};

describe('parseIpBlock', () => {
  it('reads addresses and blocks of both families', () => {
    expect(parseIpBlock('10.0.0.0/8')).toEqual({ address: '10.0.0.0', family: 4, prefix: 8 });
    expect(parseIpBlock('2001:db8::1')).toEqual({ address: '2001:db8::1', family: 6, prefix: 128 });
    expect(parseIpBlock('::ffff:10.0.0.0/104')).toEqual({ address: '::ffff:10.0.0.0', family: 6, prefix: 104 });
  });

  it('tells a bad address from a bad prefix', () => {
    for (const text of ['example.com', 'fe80::1%eth0', '10.0.0.256', '010.0.0.1', '10.0.0.1:80']) {
      expect(parseIpBlock(text)).toEqual({ problem: 'not_an_address' });
    }
    expect(parseIpBlock('10.0.0.0/33')).toEqual({ problem: 'bad_prefix', family: 4 });
    expect(parseIpBlock('10.0.0.0/08')).toEqual({ problem: 'bad_prefix', family: 4 });
    expect(parseIpBlock('fd00::/129')).toEqual({ problem: 'bad_prefix', family: 6 });
    expect(parseIpBlock('fd00::/')).toEqual({ problem: 'bad_prefix', family: 6 });
  });
});

describe('ipBlockMatcher', () => {
  it('matches IPv4 clients, plain or mapped, against IPv4 and mapped blocks only', () => {
    const allows = ipBlockMatcher([block('10.0.0.0/8'), block('::ffff:192.168.0.0/112'), block('::/0')]);
    expect(allows('10.1.2.3')).toBe(true);
    expect(allows('::ffff:10.1.2.3')).toBe(true);
    expect(allows('::ffff:c0a8:0304')).toBe(true);
    expect(allows('192.168.9.9')).toBe(true);
    // ::/0 is every IPv6 client, not every IPv4 one.
    expect(allows('11.0.0.1')).toBe(false);
    expect(allows('::ffff:11.0.0.1')).toBe(false);
    expect(allows('2001:db8::1')).toBe(true);
  });

  it('ignores a zone id and refuses what is not an address', () => {
    const allows = ipBlockMatcher([block('fe80::/10')]);
    expect(allows('fe80::1%eth0')).toBe(true);
    expect(allows('not an ip')).toBe(false);
    expect(allows('')).toBe(false);
  });
});

describe('blockCovers', () => {
  it('is true only for blocks inside the outer one, across the mapped form', () => {
    expect(blockCovers(block('10.0.0.0/8'), block('10.1.2.3/16'))).toBe(true);
    expect(blockCovers(block('::ffff:10.0.0.0/104'), block('10.9.0.0/16'))).toBe(true);
    expect(blockCovers(block('10.0.0.0/8'), block('::ffff:10.1.0.0/112'))).toBe(true);
    expect(blockCovers(block('10.0.0.0/16'), block('10.0.0.0/8'))).toBe(false);
    expect(blockCovers(block('::/0'), block('10.0.0.1'))).toBe(false);
    expect(blockCovers(block('::/0'), block('2001:db8::/32'))).toBe(true);
  });
});

describe('hostBitsCleared', () => {
  it('names the network of a block with host bits set, else null', () => {
    expect(hostBitsCleared(block('10.0.0.1/8'))).toBe('10.0.0.0');
    expect(hostBitsCleared(block('10.0.0.0/8'))).toBeNull();
    expect(hostBitsCleared(block('2001:db8:0:0:1::/32'))).toBe('2001:db8::');
    expect(hostBitsCleared(block('::ffff:10.0.0.1/104'))).toBe('::ffff:a00:0');
  });
});
