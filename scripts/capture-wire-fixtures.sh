#!/usr/bin/env bash
# Capture real, kernel-generated Ethernet frames as parser test fixtures.
#
# Builds two network namespaces (A = sender, B = receiver) joined by veth
# pairs, makes the Linux kernel emit the wanted traffic, captures it with
# tcpdump on the underlying veth (so every frame carries its full outer
# headers) and extracts single frames into tests/fixtures/wire/<name>.bin
# (raw frame bytes only: no pcap header, no FCS, no padding added by veth).
# It also regenerates tests/fixtures/wire/README.md from the frames written.
#
# Needs root, tcpdump, iproute2 (ip, tc), ethtool, iputils-ping, python3.
# Usage: sudo scripts/capture-wire-fixtures.sh [OUTPUT_DIR]
#   KEEP_PCAPS=1  keep the intermediate pcaps (path is printed)
#
# Kernel features used: veth, vxlan, clsact + cls_bpf (for VLAN tags, see
# below), IPv6 sticky options (IPV6_DSTOPTS / IPV6_RTHDR with an SRH).
# VLAN tags: the kernel's own 8021q driver is not required; a 9-instruction
# tc-BPF program calling bpf_skb_vlan_push() makes the kernel insert the
# 802.1Q / 802.1ad tags on egress (tx-vlan offload is switched off so the tag
# is in-band when tcpdump sees the frame).
# GENEVE: the kernel's geneve driver is not used (often absent); the GENEVE
# header is built in user space and sent as the payload of an ordinary kernel
# UDP socket to port 6081; the inner Ethernet frame is a real frame captured
# on an overlay (vxlan) device.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$ROOT/tests/fixtures/wire}
WORK=$(mktemp -d /tmp/wire-fixtures.XXXXXX)
NS_A=wfx-a-$$
NS_B=wfx-b-$$
BPFFS=$WORK/bpffs
FX=$WORK/fx.py
CAPTURE_TIMEOUT=8
BG_PIDS=()

die() { echo "error: $*" >&2; exit 1; }

cleanup() {
    local pid
    for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    ip netns del "$NS_A" 2>/dev/null || true
    ip netns del "$NS_B" 2>/dev/null || true
    if mountpoint -q "$BPFFS" 2>/dev/null; then umount "$BPFFS" || true; fi
    if [ "${KEEP_PCAPS:-0}" = 1 ]; then
        echo "pcaps kept in $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || die "must run as root"
for t in ip tc tcpdump ethtool ping python3 mount; do
    command -v "$t" >/dev/null || die "missing tool: $t"
done

ina() { ip netns exec "$NS_A" "$@"; }
inb() { ip netns exec "$NS_B" "$@"; }

# ---------------------------------------------------------------- helpers --
cat >"$FX" <<'PYEOF'
import ctypes, os, socket, struct, sys, threading, time

def udp_send(args):
    # udp FAMILY SRC SPORT DST DPORT PAYLOAD|@N [ipopts=HEX] [dstopts=HEX] [rthdr=HEX] [nofrag-df]
    fam = socket.AF_INET6 if args[0] == '6' else socket.AF_INET
    src, sport, dst, dport, payload = args[1], int(args[2]), args[3], int(args[4]), args[5]
    if payload.startswith('@'):
        n = int(payload[1:])
        payload = (b'0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ' * (n // 62 + 1))[:n]
    elif payload.startswith('file:'):
        payload = open(payload[5:], 'rb').read()
    else:
        payload = payload.encode().decode('unicode_escape').encode('latin-1')
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, sport))
    for opt in args[6:]:
        k, _, v = opt.partition('=')
        if k == 'ipopts':
            s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, bytes.fromhex(v))
        elif k == 'dstopts':
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS, bytes.fromhex(v))
        elif k == 'rthdr':
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RTHDR, bytes.fromhex(v))
        elif k == 'pmtudisc-dont':
            if fam == socket.AF_INET:
                s.setsockopt(socket.IPPROTO_IP, 10, 0)     # IP_MTU_DISCOVER = IP_PMTUDISC_DONT
            else:
                s.setsockopt(socket.IPPROTO_IPV6, 23, 0)   # IPV6_MTU_DISCOVER = IPV6_PMTUDISC_DONT
        else:
            raise SystemExit('unknown option ' + opt)
    s.sendto(payload, (dst, dport))
    time.sleep(0.2)

def tcp_client(args):
    # tcp FAMILY SRC SPORT DST DPORT PAYLOAD
    fam = socket.AF_INET6 if args[0] == '6' else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((args[1], int(args[2])))
    s.settimeout(5)
    s.connect((args[3], int(args[4])))
    time.sleep(0.2)
    s.sendall(args[5].encode().decode('unicode_escape').encode('latin-1'))
    time.sleep(0.5)
    s.close()

def tcp_server(args):
    # tcpserver ADDR:PORT ...   (runs until killed)
    def serve(ls):
        while True:
            c, _ = ls.accept()
            threading.Thread(target=lambda c=c: [None for _ in iter(lambda: c.recv(65536), b'')], daemon=True).start()
    for a in args:
        host, _, port = a.rpartition(':')
        host = host.strip('[]')
        fam = socket.AF_INET6 if ':' in host else socket.AF_INET
        ls = socket.socket(fam, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((host, int(port)))
        ls.listen(16)
        threading.Thread(target=serve, args=(ls,), daemon=True).start()
    print('ready %d' % os.getpid(), flush=True)
    while True:
        time.sleep(3600)

def mld_join(args):
    # mldjoin IFNAME GROUP SECONDS
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    mreq = socket.inet_pton(socket.AF_INET6, args[1]) + struct.pack('@I', socket.if_nametoindex(args[0]))
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
    time.sleep(float(args[2]))

def bpf_vlan(args):
    # bpfvlan PIN_PATH PROTO:VID [PROTO:VID]  -> pins a SCHED_CLS program that
    # pushes the tags in order (the last one pushed becomes the outer tag).
    def ins(code, dst=0, src=0, off=0, imm=0):
        return struct.pack('<BBhi', code, (src << 4) | dst, off, imm)
    code = ins(0xbf, 6, 1)                                  # r6 = r1 (skb)
    for t in args[1:]:
        proto, vid = (int(x, 0) for x in t.split(':'))
        code += ins(0xbf, 1, 6)                             # r1 = r6
        code += ins(0xb7, 2, 0, 0, socket.htons(proto))     # r2 = htons(proto)
        code += ins(0xb7, 3, 0, 0, vid)                     # r3 = tci
        code += ins(0x85, 0, 0, 0, 18)                      # call bpf_skb_vlan_push
    code += ins(0xb7, 0, 0, 0, 0)                           # r0 = TC_ACT_OK
    code += ins(0x95)                                       # exit
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    def bpf(cmd, attr):
        buf = ctypes.create_string_buffer(attr.ljust(128, b'\0'), 128)
        r = libc.syscall(321 if os.uname().machine == 'x86_64' else 280, cmd, buf, 128)
        if r < 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
        return r
    insns = ctypes.create_string_buffer(code, len(code))
    lic = ctypes.create_string_buffer(b'GPL')
    log = ctypes.create_string_buffer(65536)
    attr = struct.pack('<IIQQIIQ', 3, len(code) // 8, ctypes.addressof(insns),
                       ctypes.addressof(lic), 1, len(log), ctypes.addressof(log))
    try:
        fd = bpf(5, attr)                                   # BPF_PROG_LOAD
    except OSError:
        sys.stderr.write(log.value.decode(errors='replace'))
        raise
    path = ctypes.create_string_buffer(args[0].encode())
    bpf(6, struct.pack('<QI', ctypes.addressof(path), fd))  # BPF_OBJ_PIN

def read_pcap(path):
    data = open(path, 'rb').read()
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        e = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        e = '>'
    else:
        raise SystemExit('%s: not a classic pcap file' % path)
    linktype = struct.unpack(e + 'I', data[20:24])[0]
    if linktype != 1:
        raise SystemExit('%s: linktype %d, want 1 (Ethernet)' % (path, linktype))
    off, frames = 24, []
    while off + 16 <= len(data):
        _, _, incl, orig = struct.unpack(e + 'IIII', data[off:off + 16])
        if incl != orig:
            raise SystemExit('%s: truncated record' % path)
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames

def extract(args):
    # extract PCAP OUT (index=N | contains=HEX | contains-str=TEXT) [skip=N]
    frames = read_pcap(args[0])
    sel = dict(a.split('=', 1) for a in args[2:])
    if 'index' in sel:
        i = int(sel['index'])
        if i >= len(frames):
            raise SystemExit('%s: only %d frames, wanted index %d' % (args[0], len(frames), i))
        frame = frames[i]
    else:
        needle = bytes.fromhex(sel['contains']) if 'contains' in sel else sel['contains-str'].encode().decode('unicode_escape').encode('latin-1')
        hits = [f for f in frames if needle in f]
        skip = int(sel.get('skip', 0))
        if len(hits) <= skip:
            raise SystemExit('%s: no frame contains %r' % (args[0], needle))
        frame = hits[skip]
    with open(args[1], 'wb') as f:
        f.write(frame)

def geneve(args):
    # geneve INNER_FRAME_FILE OUT_PAYLOAD_FILE VNI [OPTION_HEX]
    inner = open(args[0], 'rb').read()
    vni = int(args[2])
    opts = bytes.fromhex(args[3]) if len(args) > 3 else b''
    assert len(opts) % 4 == 0
    hdr = struct.pack('!BBHI', len(opts) // 4, 0, 0x6558, vni << 8) + opts
    open(args[1], 'wb').write(hdr + inner)

# ------------------------------------------------------------- dissector --
def mac(b): return ':'.join('%02x' % x for x in b)
def ip6s(b): return socket.inet_ntop(socket.AF_INET6, b)
def ip4s(b): return socket.inet_ntop(socket.AF_INET, b)

def dissect(f, base=0, depth=0, info=None):
    """Return a list of (key, value) facts; offsets are absolute in the frame.
    Also fills `info` (dict) with the summary-table fields."""
    info = {} if info is None else info
    r = []
    o = base
    r.append(('eth', '%s -> %s' % (mac(f[o + 6:o + 12]), mac(f[o:o + 6]))))
    et = struct.unpack('!H', f[o + 12:o + 14])[0]
    chain = ['0x%04x' % et]
    o += 14
    vlans = []
    while et in (0x8100, 0x88a8, 0x9100):
        tci, et = struct.unpack('!HH', f[o:o + 4])
        vlans.append('tpid=%s vid=%d pcp=%d dei=%d' % (chain[-1], tci & 0xfff, tci >> 13, (tci >> 12) & 1))
        chain.append('0x%04x' % et)
        o += 4
    r.append(('ethertypes', ' > '.join(chain)))
    info['chain'] = ' > '.join(chain)
    info['vlans'] = '/'.join(v.split()[1][4:] for v in vlans) or '-'
    if vlans:
        r.append(('vlan tags (outer first)', '; '.join(vlans)))
    r.append(('L3 offset', o))
    info['l3'] = o
    l4 = proto = None
    frag_later = False
    if et == 0x0806:
        htype, ptype, hl, pl, op = struct.unpack('!HHBBH', f[o:o + 8])
        info.update(src=ip4s(f[o + 14:o + 18]), dst=ip4s(f[o + 24:o + 28]), proto='ARP op=%d' % op)
        r.append(('ARP', 'htype=%d ptype=0x%04x op=%d sha=%s spa=%s tha=%s tpa=%s' % (
            htype, ptype, op, mac(f[o + 8:o + 14]), ip4s(f[o + 14:o + 18]), mac(f[o + 18:o + 24]), ip4s(f[o + 24:o + 28]))))
        r.append(('frame len', len(f) - base))
        return r
    if et == 0x0800:
        vihl, tos, tot, ident, ff, ttl, proto, csum = struct.unpack('!BBHHHBBH', f[o:o + 12])
        ihl = (vihl & 0xf) * 4
        info.update(src=ip4s(f[o + 12:o + 16]), dst=ip4s(f[o + 16:o + 20]), ipproto=proto)
        if ihl > 20: info['l3x'] = 'IHL=%d' % (ihl // 4)
        if ff & 0x3fff & ~0x4000: info['frag'] = 'off=%d MF=%d' % ((ff & 0x1fff) * 8, (ff >> 13) & 1)
        r.append(('IPv4', '%s -> %s proto=%d ihl=%d(%d bytes) total_len=%d id=0x%04x ttl=%d flags=%s frag_offset=%d(bytes)' % (
            ip4s(f[o + 12:o + 16]), ip4s(f[o + 16:o + 20]), proto, ihl // 4, ihl, tot, ident, ttl,
            ('DF' if ff & 0x4000 else '') + ('MF' if ff & 0x2000 else '') or 'none', (ff & 0x1fff) * 8)))
        if ihl > 20:
            r.append(('IPv4 options', '%d bytes @%d: %s' % (ihl - 20, o + 20, f[o + 20:o + ihl].hex())))
        end = o + tot
        frag_later = (ff & 0x1fff) != 0
        o += ihl
    elif et == 0x86dd:
        plen, nh, hlim = struct.unpack('!HBB', f[o + 4:o + 8])
        info.update(src=ip6s(f[o + 8:o + 24]), dst=ip6s(f[o + 24:o + 40]))
        exts = []
        r.append(('IPv6', '%s -> %s payload_len=%d next_header=%d hop_limit=%d' % (
            ip6s(f[o + 8:o + 24]), ip6s(f[o + 24:o + 40]), plen, nh, hlim)))
        end = o + 40 + plen
        o += 40
        ext = []
        while nh in (0, 43, 44, 60):
            names = {0: 'HopByHop', 43: 'Routing', 44: 'Fragment', 60: 'DestOpts'}
            if nh == 44:
                nnh, _, offm, ident = struct.unpack('!BBHI', f[o:o + 8])
                ext.append('Fragment@%d(len 8, frag_offset=%d bytes, M=%d, id=0x%08x)' % (o, offm & 0xfff8, offm & 1, ident))
                frag_later = (offm & 0xfff8) != 0
                info['frag'] = 'off=%d M=%d' % (offm & 0xfff8, offm & 1)
                hl = 8
            else:
                nnh, hlen = f[o], f[o + 1]
                hl = (hlen + 1) * 8
                extra = ''
                if nh == 43:
                    extra = ', type=%d, segments_left=%d' % (f[o + 2], f[o + 3])
                    if f[o + 2] == 4:
                        n = (hlen * 8) // 16
                        extra += ', last_entry=%d, segments=[%s]' % (f[o + 4], ', '.join(ip6s(f[o + 8 + 16 * i:o + 24 + 16 * i]) for i in range(n)))
                ext.append('%s@%d(len %d%s, bytes %s)' % (names[nh], o, hl, extra, f[o:o + min(hl, 8)].hex() + ('...' if hl > 8 else '')))
            exts.append('%s@%d' % ({0: 'HBH', 43: 'RH', 44: 'FH', 60: 'DO'}[nh], o))
            nh = nnh
            o += hl
        if exts: info['l3x'] = ' '.join(exts)
        if ext:
            r.append(('IPv6 ext headers', ' > '.join(ext)))
        proto = nh
        info['ipproto'] = nh
        r.append(('upper-layer protocol', nh))
    else:
        r.append(('frame len', len(f) - base))
        return r
    if frag_later:
        r.append(('L4', 'none (non-first fragment); fragment data @%d len %d' % (o, end - o)))
        info.update(l4='-', payoff=o, paylen=end - o)
        r.append(('frame len', len(f) - base))
        return r
    r.append(('L4 offset', o))
    info['l4'] = o
    if proto == 17:
        sp, dp, ulen, uc = struct.unpack('!HHHH', f[o:o + 8])
        info.update(sport=sp, dport=dp)
        r.append(('UDP', '%d -> %d udp_len=%d checksum=0x%04x' % (sp, dp, ulen, uc)))
        pay = o + 8
        plen = end - pay
        if ulen - 8 != plen:
            r.append(('note', 'UDP length says %d payload bytes, %d present in this fragment' % (ulen - 8, plen)))
    elif proto == 6:
        sp, dp, seq, ack, offfl, win = struct.unpack('!HHIIHH', f[o:o + 16])
        info.update(sport=sp, dport=dp)
        doff = (offfl >> 12) * 4
        flags = offfl & 0x1ff
        fl = ''.join(n for b, n in ((0x02, 'S'), (0x10, 'A'), (0x08, 'P'), (0x01, 'F'), (0x04, 'R')) if flags & b)
        r.append(('TCP', '%d -> %d flags=%s(0x%03x) data_offset=%d bytes seq=%d ack=%d win=%d' % (sp, dp, fl, flags, doff, seq, ack, win)))
        if doff > 20:
            r.append(('TCP options', '%d bytes: %s' % (doff - 20, tcp_opts(f[o + 20:o + doff]))))
        pay = o + doff
        plen = end - pay
    elif proto in (1, 58):
        t, c = f[o], f[o + 1]
        r.append(('ICMP' if proto == 1 else 'ICMPv6', 'type=%d code=%d' % (t, c)))
        pay = o + (8 if proto == 1 else 4)
        plen = end - pay
    else:
        pay, plen = o, end - o
    r.append(('L4 payload', 'offset %d len %d' % (pay, plen)))
    info.update(payoff=pay, paylen=plen)
    if proto == 17 and len(f) >= pay + 8:
        dp = struct.unpack('!H', f[o + 2:o + 4])[0]
        if dp == 4789:
            flags, vni = struct.unpack('!B3xI', f[pay:pay + 8])
            r.append(('VXLAN', 'flags=0x%02x VNI=%d, inner Ethernet @%d' % (flags, vni >> 8, pay + 8)))
            info['tunnel'] = 'VXLAN VNI %d' % (vni >> 8)
            info['inner'] = {}
            r += [('inner ' + k, v) for k, v in dissect(f, pay + 8, depth + 1, info['inner'])]
        elif dp == 6081:
            vo, fl, ptype, vni = struct.unpack('!BBHI', f[pay:pay + 8])
            optlen = (vo & 0x3f) * 4
            r.append(('GENEVE', 'ver=%d opt_len=%d bytes O=%d C=%d protocol=0x%04x VNI=%d, inner Ethernet @%d' % (
                vo >> 6, optlen, fl >> 7, (fl >> 6) & 1, ptype, vni >> 8, pay + 8 + optlen)))
            if optlen:
                oc, ot, ol = struct.unpack('!HBB', f[pay + 8:pay + 12])
                r.append(('GENEVE option', 'class=0x%04x type=0x%02x data_len=%d bytes data=%s' % (
                    oc, ot, (ol & 0x1f) * 4, f[pay + 12:pay + 12 + (ol & 0x1f) * 4].hex())))
            info['tunnel'] = 'GENEVE VNI %d optlen %d' % (vni >> 8, optlen)
            info['inner'] = {}
            r += [('inner ' + k, v) for k, v in dissect(f, pay + 8 + optlen, depth + 1, info['inner'])]
        elif plen and all(32 <= b < 127 or b in (10, 13) for b in f[pay:end]):
            r.append(('payload text', ptext(f[pay:end])))
    elif plen and all(32 <= b < 127 or b in (10, 13) for b in f[pay:end]):
        r.append(('payload text', ptext(f[pay:end])))
    if base == 0:
        r.append(('frame len', len(f)))
    return r

def ptext(b):
    return repr(b.decode()) if len(b) <= 64 else repr(b[:64].decode()) + '... (%d bytes)' % len(b)

def tcp_opts(b):
    out, i = [], 0
    while i < len(b):
        k = b[i]
        if k == 0: out.append('EOL'); break
        if k == 1: out.append('NOP'); i += 1; continue
        l = b[i + 1]
        v = b[i + 2:i + l]
        if k == 2: out.append('MSS=%d' % struct.unpack('!H', v)[0])
        elif k == 3: out.append('WS=%d' % v[0])
        elif k == 4: out.append('SACK_PERM')
        elif k == 8: out.append('TS(val=%d,ecr=%d)' % struct.unpack('!II', v))
        else: out.append('kind%d(len %d)' % (k, l))
        i += l
    return ', '.join(out)

def summary(args):
    cols = ['file', 'bytes', 'ethertypes', 'VLAN ids', 'L3@', 'src -> dst', 'L3 extra', 'fragment', 'proto', 'sport -> dport', 'L4@', 'payload@', 'payload len', 'tunnel']
    print('| ' + ' | '.join(cols) + ' |')
    print('|' + '---|' * len(cols))
    def row(name, n, i):
        pn = {1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6'}
        proto = i.get('proto') or pn.get(i.get('ipproto'), str(i.get('ipproto', '-')))
        ports = '%d -> %d' % (i['sport'], i['dport']) if 'sport' in i else '-'
        print('| ' + ' | '.join(str(x) for x in [name, n, i['chain'], i['vlans'], i['l3'], '%s -> %s' % (i.get('src'), i.get('dst')),
              i.get('l3x', '-'), i.get('frag', '-'), proto, ports, i.get('l4', '-'), i.get('payoff', '-'), i.get('paylen', '-'), i.get('tunnel', '-')]) + ' |')
    for p in args:
        f = open(p, 'rb').read()
        i = {}
        dissect(f, 0, 0, i)
        row('`%s`' % os.path.basename(p), len(f), i)
        if 'inner' in i:
            row('(inner)', '', i['inner'])

def describe(args):
    for p in args:
        f = open(p, 'rb').read()
        print('#### `%s` (%d bytes)' % (os.path.basename(p), len(f)))
        print()
        for k, v in dissect(f):
            if k.endswith('frame len'):
                continue
            print('- %s: %s' % (k, v))
        print()

CMDS = {'udp': udp_send, 'tcp': tcp_client, 'tcpserver': tcp_server, 'mldjoin': mld_join,
        'bpfvlan': bpf_vlan, 'extract': extract, 'geneve': geneve, 'describe': describe, 'summary': summary}
CMDS[sys.argv[1]](sys.argv[2:])
PYEOF

# capture NAME NS DEV COUNT FILTER -- CMD...: start tcpdump, run CMD, wait for it.
capture() {
    local name=$1 ns=$2 dev=$3 count=$4 filter=$5
    shift 6
    local pcap=$WORK/$name.pcap log=$WORK/$name.tcpdump.log
    ip netns exec "$ns" timeout "$CAPTURE_TIMEOUT" \
        tcpdump -i "$dev" -n -U -c "$count" -w "$pcap" "$filter" >"$log" 2>&1 &
    local pid=$! i
    for i in $(seq 100); do
        grep -q 'listening on' "$log" && break
        sleep 0.05
    done
    grep -q 'listening on' "$log" || { cat "$log" >&2; die "tcpdump did not start for $name"; }
    "$@"
    local rc=0
    wait "$pid" || rc=$?
    if [ "$rc" != 0 ] && [ "$rc" != 124 ]; then cat "$log" >&2; die "tcpdump failed for $name"; fi
    [ -s "$pcap" ] || die "no pcap for $name"
}

# extract PCAP_NAME OUT_NAME SELECTOR...
extract() {
    local pcap=$1 out=$2
    shift 2
    python3 "$FX" extract "$WORK/$pcap.pcap" "$OUT/$out.bin" "$@"
    echo "  wrote $out.bin ($(stat -c %s "$OUT/$out.bin") bytes)"
}

# ------------------------------------------------------------------ setup --
mkdir -p "$OUT" "$BPFFS"
mount -t bpf bpf "$BPFFS"
ip netns add "$NS_A"
ip netns add "$NS_B"
for ns in "$NS_A" "$NS_B"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0 \
        net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.all.router_solicitations=0
    ip -n "$ns" link set lo up
done

# Main pair: va (A) <-> vb (B); IPv4 10.0.0.1/2, IPv6 fd00::1/2.
ip link add va address 02:00:00:00:00:0a netns "$NS_A" type veth peer name vb address 02:00:00:00:00:0b netns "$NS_B"
# Everything created after this point has no IPv6 (keeps overlays/VLAN pairs quiet).
for ns in "$NS_A" "$NS_B"; do ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1; done
ip -n "$NS_A" addr add 10.0.0.1/24 dev va
ip -n "$NS_B" addr add 10.0.0.2/24 dev vb
ip -n "$NS_A" addr add fd00::1/64 dev va nodad
ip -n "$NS_B" addr add fd00::2/64 dev vb nodad
ip -n "$NS_A" neigh add 10.0.0.2 lladdr 02:00:00:00:00:0b dev va nud permanent
ip -n "$NS_B" neigh add 10.0.0.1 lladdr 02:00:00:00:00:0a dev vb nud permanent
ip -n "$NS_A" neigh add fd00::2 lladdr 02:00:00:00:00:0b dev va nud permanent
ip -n "$NS_B" neigh add fd00::1 lladdr 02:00:00:00:00:0a dev vb nud permanent

# VLAN pairs: vla <-> vlb (802.1Q 100), vqa <-> vqb (802.1ad 200 over 802.1Q 300).
ip link add vla address 02:00:00:00:01:0a netns "$NS_A" type veth peer name vlb address 02:00:00:00:01:0b netns "$NS_B"
ip link add vqa address 02:00:00:00:02:0a netns "$NS_A" type veth peer name vqb address 02:00:00:00:02:0b netns "$NS_B"
ip -n "$NS_A" addr add 10.100.0.1/24 dev vla
ip -n "$NS_A" neigh add 10.100.0.2 lladdr 02:00:00:00:01:0b dev vla nud permanent
ip -n "$NS_A" addr add 10.200.0.1/24 dev vqa
ip -n "$NS_A" neigh add 10.200.0.2 lladdr 02:00:00:00:02:0b dev vqa nud permanent
python3 "$FX" bpfvlan "$BPFFS/vlan100" 0x8100:100
python3 "$FX" bpfvlan "$BPFFS/qinq200x300" 0x8100:300 0x88a8:200
for d in vla:vlan100 vqa:qinq200x300; do
    ina tc qdisc add dev "${d%%:*}" clsact
    ina tc filter add dev "${d%%:*}" egress bpf direct-action object-pinned "$BPFFS/${d#*:}"
    ina ethtool -K "${d%%:*}" txvlan off tx-vlan-stag-hw-insert off >/dev/null
done

# VXLAN overlays (underlay va/vb). Fixed outer source port: srcport 50000 50001.
for spec in "vx0 42 10.0.0.1 10.0.0.2 192.168.42" "vx6 43 fd00::1 fd00::2 192.168.43" "ovl77 77 10.0.0.1 10.0.0.2 192.168.77"; do
    read -r dev vni la lb net <<<"$spec"
    ip -n "$NS_A" link add "$dev" address 02:00:00:00:$vni:0a type vxlan id "$vni" local "$la" remote "$lb" dstport 4789 srcport 50000 50001 dev va
    ip -n "$NS_B" link add "$dev" address 02:00:00:00:$vni:0b type vxlan id "$vni" local "$lb" remote "$la" dstport 4789 srcport 50000 50001 dev vb
    ip -n "$NS_A" addr add "$net.1/24" dev "$dev"
    ip -n "$NS_B" addr add "$net.2/24" dev "$dev"
    ip -n "$NS_A" neigh add "$net.2" lladdr 02:00:00:00:$vni:0b dev "$dev" nud permanent
    ip -n "$NS_B" neigh add "$net.1" lladdr 02:00:00:00:$vni:0a dev "$dev" nud permanent
done

# Software checksums everywhere (no CHECKSUM_PARTIAL garbage in the captures).
for d in va vla vqa vx0 vx6 ovl77; do ina ethtool -K "$d" tx off >/dev/null; done
for d in vb vx0 vx6 ovl77; do inb ethtool -K "$d" tx off >/dev/null; done
for d in va vla vqa vx0 vx6 ovl77; do ip -n "$NS_A" link set "$d" up; done
for d in vb vlb vqb vx0 vx6 ovl77; do ip -n "$NS_B" link set "$d" up; done

inb python3 "$FX" tcpserver 10.0.0.2:5001 '[fd00::2]:5011' 192.168.42.2:5042 >"$WORK/server.log" 2>&1 &
BG_PIDS+=($!)
for _ in $(seq 100); do grep -q ready "$WORK/server.log" && break; sleep 0.05; done
grep -q ready "$WORK/server.log" || { cat "$WORK/server.log" >&2; die "tcp server did not start"; }
BG_PIDS+=("$(awk '/^ready/ {print $2}' "$WORK/server.log")")   # the python process itself
sleep 1

rm -f "$OUT"/*.bin

# --------------------------------------------------------------- captures --
echo "capturing into $OUT"

capture arp "$NS_A" va 1 'arp' -- \
    bash -c "ip netns exec $NS_A ping -n -c1 -W1 10.0.0.3 >/dev/null 2>&1 || true"
extract arp arp index=0

capture ipv4_udp "$NS_A" va 1 'udp and src host 10.0.0.1 and dst port 5000' -- \
    ina python3 "$FX" udp 4 10.0.0.1 40000 10.0.0.2 5000 'hello ipv4 udp\n'
extract ipv4_udp ipv4_udp index=0

capture ipv4_tcp "$NS_A" va 3 'tcp and src host 10.0.0.1 and dst port 5001' -- \
    ina python3 "$FX" tcp 4 10.0.0.1 40001 10.0.0.2 5001 'hello ipv4 tcp\n'
extract ipv4_tcp ipv4_tcp_syn index=0
extract ipv4_tcp ipv4_tcp_data contains-str='hello ipv4 tcp\n'

capture ipv4_options "$NS_A" va 1 'icmp and src host 10.0.0.1' -- \
    bash -c "ip netns exec $NS_A ping -n -R -c1 -W1 10.0.0.2 >/dev/null"
extract ipv4_options ipv4_options index=0


# IP_OPTIONS: NOP, Record Route (len 7, pointer 4, one empty slot) -> IHL 7.
capture ipv4_options_udp "$NS_A" va 1 'udp and src host 10.0.0.1 and dst port 5002' -- \
    ina python3 "$FX" udp 4 10.0.0.1 40002 10.0.0.2 5002 'hello ipv4 options\n' ipopts=0107070400000000
extract ipv4_options_udp ipv4_options_udp index=0

# 3000-byte UDP payload, MTU 1500 -> fragments carrying 1480 + 1480 + 48 bytes.
capture ipv4_frag "$NS_A" va 3 'ip proto 17 and src host 10.0.0.1' -- \
    ina python3 "$FX" udp 4 10.0.0.1 40003 10.0.0.2 5003 @3000 pmtudisc-dont
extract ipv4_frag ipv4_frag_first index=0
extract ipv4_frag ipv4_frag_later index=1
extract ipv4_frag ipv4_frag_last index=2

capture vlan_udp "$NS_A" vla 1 'vlan and udp' -- \
    ina python3 "$FX" udp 4 10.100.0.1 40100 10.100.0.2 5100 'hello vlan 100\n'
extract vlan_udp vlan_udp index=0

capture qinq_udp "$NS_A" vqa 1 'vlan and vlan and udp' -- \
    ina python3 "$FX" udp 4 10.200.0.1 40200 10.200.0.2 5200 'hello qinq 200/300\n'
extract qinq_udp qinq_udp index=0

capture ipv6_udp "$NS_A" va 1 'ip6 and udp and src host fd00::1 and dst port 5010' -- \
    ina python3 "$FX" udp 6 fd00::1 40010 fd00::2 5010 'hello ipv6 udp\n'
extract ipv6_udp ipv6_udp index=0

capture ipv6_tcp "$NS_A" va 3 'ip6 and tcp and src host fd00::1 and dst port 5011' -- \
    ina python3 "$FX" tcp 6 fd00::1 40011 fd00::2 5011 'hello ipv6 tcp\n'
extract ipv6_tcp ipv6_tcp_syn index=0
extract ipv6_tcp ipv6_tcp_data contains-str='hello ipv6 tcp\n'

# 3000-byte UDP payload, MTU 1500 -> fragments carrying 1448 + 1448 + 112 bytes.
capture ipv6_frag "$NS_A" va 3 'ip6 and src host fd00::1 and ip6[6] = 44' -- \
    ina python3 "$FX" udp 6 fd00::1 40012 fd00::2 5012 @3000 pmtudisc-dont
extract ipv6_frag ipv6_frag_first index=0
extract ipv6_frag ipv6_frag_later index=1
extract ipv6_frag ipv6_frag_last index=2

# Destination options (sticky IPV6_DSTOPTS): one experimental option 0x1e, 4 data bytes.
capture ipv6_dstopts "$NS_A" va 1 'ip6 and src host fd00::1 and ip6[6] = 60' -- \
    ina python3 "$FX" udp 6 fd00::1 40013 fd00::2 5013 'hello ipv6 dstopts\n' dstopts=00001e04deadbeef
extract ipv6_dstopts ipv6_dstopts_udp index=0

# Routing header (sticky IPV6_RTHDR): SRv6 SRH (type 4), segments_left 1, two
# segments. The kernel moves segments[1] (fd00::2) into the IPv6 destination and
# stores the socket's destination (fd00::3, the final one) in segments[0].
capture ipv6_routing "$NS_A" va 1 'ip6 and src host fd00::1 and ip6[6] = 43' -- \
    ina python3 "$FX" udp 6 fd00::1 40014 fd00::3 5014 'hello ipv6 srh\n' \
        rthdr=0004040101000000"$(printf '0%.0s' {1..32})"fd000000000000000000000000000002
extract ipv6_routing ipv6_routing_udp index=0

# MLDv2 report (IPv6 hop-by-hop header with router alert) from joining ff12::db8:1.
capture ipv6_hopbyhop "$NS_A" va 2 'ip6 and ip6[6] = 0 and ether src 02:00:00:00:00:0a' -- \
    ina python3 "$FX" mldjoin va ff12::db8:1 2
extract ipv6_hopbyhop ipv6_hopbyhop contains=ff12000000000000000000000db80001

capture vxlan_udp "$NS_A" va 1 'udp and src host 10.0.0.1 and dst port 4789' -- \
    ina python3 "$FX" udp 4 192.168.42.1 40042 192.168.42.2 4242 'hello vxlan udp\n'
extract vxlan_udp vxlan_udp index=0

capture vxlan_tcp "$NS_A" va 3 'udp and src host 10.0.0.1 and dst port 4789' -- \
    ina python3 "$FX" tcp 4 192.168.42.1 40043 192.168.42.2 5042 'hello vxlan tcp\n'
extract vxlan_tcp vxlan_tcp contains-str='hello vxlan tcp\n'

capture vxlan_ipv6_underlay "$NS_A" va 1 'ip6 and udp and src host fd00::1 and dst port 4789' -- \
    ina python3 "$FX" udp 4 192.168.43.1 40043 192.168.43.2 4343 'hello vxlan over ipv6\n'
extract vxlan_ipv6_underlay vxlan_ipv6_underlay index=0

# GENEVE: inner frame = real frame captured on overlay device ovl77; GENEVE header
# built in user space; outer Ethernet/IPv4/UDP built by the kernel (UDP socket
# 10.0.0.1:50000 -> 10.0.0.2:6081).
capture geneve_inner "$NS_A" ovl77 1 'udp and dst port 7777' -- \
    ina python3 "$FX" udp 4 192.168.77.1 40077 192.168.77.2 7777 'hello geneve\n'
python3 "$FX" extract "$WORK/geneve_inner.pcap" "$WORK/geneve_inner.bin" index=0
python3 "$FX" geneve "$WORK/geneve_inner.bin" "$WORK/geneve_payload.bin" 77
python3 "$FX" geneve "$WORK/geneve_inner.bin" "$WORK/geneve_opt_payload.bin" 77 ffff0101deadbeef
capture geneve_udp "$NS_A" va 1 'udp and src host 10.0.0.1 and dst port 6081' -- \
    ina python3 "$FX" udp 4 10.0.0.1 50000 10.0.0.2 6081 "file:$WORK/geneve_payload.bin"
extract geneve_udp geneve_udp index=0
capture geneve_options "$NS_A" va 1 'udp and src host 10.0.0.1 and dst port 6081' -- \
    ina python3 "$FX" udp 4 10.0.0.1 50000 10.0.0.2 6081 "file:$WORK/geneve_opt_payload.bin"
extract geneve_options geneve_options_udp index=0

# ---------------------------------------------------------------- README --
ORDER="arp ipv4_udp ipv4_tcp_syn ipv4_tcp_data ipv4_options ipv4_options_udp ipv4_frag_first ipv4_frag_later ipv4_frag_last vlan_udp qinq_udp ipv6_udp ipv6_tcp_syn ipv6_tcp_data ipv6_frag_first ipv6_frag_later ipv6_frag_last ipv6_hopbyhop ipv6_dstopts_udp ipv6_routing_udp vxlan_udp vxlan_tcp vxlan_ipv6_underlay geneve_udp geneve_options_udp"
files=()
for n in $ORDER; do
    [ -s "$OUT/$n.bin" ] || die "missing $n.bin"
    files+=("$OUT/$n.bin")
done
{
    sed -n '/^: <<.README_HEAD.$/,/^README_HEAD$/p' "${BASH_SOURCE[0]}" | sed '1d;$d'
    echo "## Summary (decoded from the files written by this run)"
    echo
    python3 "$FX" summary "${files[@]}"
    echo
    echo "## Per-file facts"
    echo
    python3 "$FX" describe "${files[@]}"
} >"$OUT/README.md"
echo "wrote $OUT/README.md"
ls -l "$OUT"
exit 0

# The README head is kept here so the script stays the single source of truth.
: <<'README_HEAD'
# Wire fixtures: real kernel-generated Ethernet frames

Every `*.bin` file here is exactly one Ethernet frame as captured by `tcpdump`
(libpcap, `-w`) on a Linux veth interface: destination MAC first, no pcap
record header, no preamble, no FCS. veth does not pad short frames, so several
frames are shorter than the 60-byte Ethernet minimum (e.g. `arp.bin` is 42).

All files (and this README) are produced by
[`scripts/capture-wire-fixtures.sh`](../../../scripts/capture-wire-fixtures.sh)
(run as root: `sudo scripts/capture-wire-fixtures.sh`). The README facts below
are decoded from the written files by the script and were cross-checked with
`tcpdump -r <pcap> -n -e -vv -XX`. All offsets are 0-based byte offsets from
the first byte of the frame (inner-frame offsets too). "payload" means the
bytes after the L4 header (UDP: after 8 bytes; TCP: after the data offset;
ICMP: after the 8-byte echo header; ICMPv6: after the 4-byte type/code/checksum).
For non-first fragments there is no L4 header: "L4@" is `-` and "payload@" /
"payload len" give the fragment data (right after the IPv4 header / the IPv6
Fragment header). "L3 extra" lists IPv4 IHL when > 5, or IPv6 extension
headers as `NAME@offset` (HBH hop-by-hop, RH routing, FH fragment, DO
destination options). In the tunnel rows, "(inner)" gives the inner frame,
with offsets still counted from the start of the outer frame.

Stable across re-runs: MACs, addresses, ports, VNIs, VLAN ids, protocol/ext
header chains, all offsets and lengths, payload bytes. Different on every
re-run: IPv4 identification, IPv6 flow label, TCP seq/ack/timestamps, ICMP echo
id, the IPv6 fragment identification, and the checksums covering them. The TCP
window-scale value in SYNs depends on the host's memory sizing.

## Topology

Two network namespaces, A (sender, where all traffic originates) and B
(receiver). Frames are captured in A on the sending interface. Checksum
offload is switched off (`ethtool -K <dev> tx off`), so all checksums in the
frames are real and correct (tcpdump: "sum ok"/"correct"; the outer VXLAN UDP
checksums are non-zero too). UDP checksums in fragments can only be verified
after reassembly. Static neighbour entries avoid ARP/ND noise.

| link (A <-> B) | A side | B side | purpose |
|---|---|---|---|
| `va` <-> `vb` | 02:00:00:00:00:0a, 10.0.0.1/24, fd00::1/64 | 02:00:00:00:00:0b, 10.0.0.2/24, fd00::2/64 | plain IPv4/IPv6, underlay for VXLAN/GENEVE |
| `vla` <-> `vlb` | 02:00:00:00:01:0a, 10.100.0.1/24 | 02:00:00:00:01:0b (10.100.0.2 neighbour) | 802.1Q vid 100 |
| `vqa` <-> `vqb` | 02:00:00:00:02:0a, 10.200.0.1/24 | 02:00:00:00:02:0b (10.200.0.2 neighbour) | 802.1ad vid 200 + 802.1Q vid 300 |
| `vx0` (vxlan id 42, dstport 4789, srcport 50000 50001, local 10.0.0.1 remote 10.0.0.2 dev va) | 02:00:00:00:42:0a, 192.168.42.1/24 | 02:00:00:00:42:0b, 192.168.42.2/24 | VXLAN, IPv4 underlay |
| `vx6` (vxlan id 43, same, local fd00::1 remote fd00::2) | 02:00:00:00:43:0a, 192.168.43.1/24 | 02:00:00:00:43:0b, 192.168.43.2/24 | VXLAN, IPv6 underlay |
| `ovl77` (vxlan id 77, used only as a source of a real inner frame) | 02:00:00:00:77:0a, 192.168.77.1/24 | 02:00:00:00:77:0b, 192.168.77.2/24 | inner frame of the GENEVE fixtures |

VLAN tags: the test kernel had no 8021q driver, so the tags are pushed by the
kernel itself via a tc-BPF egress program on `vla` / `vqa` that calls
`bpf_skb_vlan_push()` (802.1Q 100; resp. 802.1Q 300 then 802.1ad 200, the last
push becoming the outer tag), with tx-vlan offload off so the tags are in-band.
The bytes are what an 8021q device (`ip link add link vla name vla.100 type vlan id 100`,
`... type vlan protocol 802.1ad id 200` + inner `id 300`) emits.

GENEVE: the kernel had no geneve driver either. The outer Ethernet/IPv4/UDP
headers (10.0.0.1:50000 -> 10.0.0.2:6081) are built by the kernel for an
ordinary UDP socket; the 8-byte GENEVE header (+ option) is built by the script;
the inner Ethernet frame is a real frame captured on `ovl77`.

## How each file was generated

Senders are small Python socket calls in the script (`fx.py udp|tcp|mldjoin`)
bound to fixed source ports; a Python TCP server listens in B on 10.0.0.2:5001,
[fd00::2]:5011 and 192.168.42.2:5042.

| file | traffic (in namespace A) | captured on, tcpdump filter, frame picked |
|---|---|---|
| `arp.bin` | `ping -n -c1 -W1 10.0.0.3` (no neighbour entry -> kernel ARP request) | va, `arp`, 1st |
| `ipv4_udp.bin` | UDP 10.0.0.1:40000 -> 10.0.0.2:5000, payload `hello ipv4 udp\n` | va, `udp and src host 10.0.0.1 and dst port 5000`, 1st |
| `ipv4_tcp_syn.bin` | TCP connect 10.0.0.1:40001 -> 10.0.0.2:5001 | va, `tcp and src host 10.0.0.1 and dst port 5001`, 1st (SYN) |
| `ipv4_tcp_data.bin` | same connection, `send("hello ipv4 tcp\n")` | same capture, frame containing the payload (PSH/ACK) |
| `ipv4_options.bin` | `ping -n -R -c1 -W1 10.0.0.2` (record route, IHL 15) | va, `icmp and src host 10.0.0.1`, 1st |
| `ipv4_options_udp.bin` | UDP 10.0.0.1:40002 -> 10.0.0.2:5002 `hello ipv4 options\n`, `setsockopt(IP_OPTIONS, 01 07 07 04 00 00 00 00)` (NOP + record route with one slot, IHL 7) | va, `udp and src host 10.0.0.1 and dst port 5002`, 1st |
| `ipv4_frag_first.bin`, `ipv4_frag_later.bin`, `ipv4_frag_last.bin` | UDP 10.0.0.1:40003 -> 10.0.0.2:5003, 3000-byte payload (`0-9a-zA-Z` repeated), `IP_MTU_DISCOVER=IP_PMTUDISC_DONT`, MTU 1500 | va, `ip proto 17 and src host 10.0.0.1`, 1st / 2nd / 3rd fragment |
| `vlan_udp.bin` | UDP 10.100.0.1:40100 -> 10.100.0.2:5100 `hello vlan 100\n` | vla, `vlan and udp`, 1st |
| `qinq_udp.bin` | UDP 10.200.0.1:40200 -> 10.200.0.2:5200 `hello qinq 200/300\n` | vqa, `vlan and vlan and udp`, 1st |
| `ipv6_udp.bin` | UDP [fd00::1]:40010 -> [fd00::2]:5010 `hello ipv6 udp\n` | va, `ip6 and udp and src host fd00::1 and dst port 5010`, 1st |
| `ipv6_tcp_syn.bin` | TCP connect [fd00::1]:40011 -> [fd00::2]:5011 | va, `ip6 and tcp and src host fd00::1 and dst port 5011`, 1st (SYN) |
| `ipv6_tcp_data.bin` | same connection, `send("hello ipv6 tcp\n")` | same capture, frame containing the payload |
| `ipv6_frag_first.bin`, `ipv6_frag_later.bin`, `ipv6_frag_last.bin` | UDP [fd00::1]:40012 -> [fd00::2]:5012, 3000-byte payload, `IPV6_MTU_DISCOVER=IPV6_PMTUDISC_DONT` | va, `ip6 and src host fd00::1 and ip6[6] = 44`, 1st / 2nd / 3rd |
| `ipv6_hopbyhop.bin` | `setsockopt(IPV6_JOIN_GROUP, ff12::db8:1 on va)` -> kernel MLDv2 report (Hop-by-Hop with Router Alert + PadN, ICMPv6 type 143) | va, `ip6 and ip6[6] = 0 and ether src 02:00:00:00:00:0a`, frame containing the group address |
| `ipv6_dstopts_udp.bin` | UDP [fd00::1]:40013 -> [fd00::2]:5013 `hello ipv6 dstopts\n`, `setsockopt(IPV6_DSTOPTS, 00 00 1e 04 de ad be ef)` (option type 0x1e, 4 data bytes) | va, `ip6 and src host fd00::1 and ip6[6] = 60`, 1st |
| `ipv6_routing_udp.bin` | UDP [fd00::1]:40014 -> [fd00::3]:5014 `hello ipv6 srh\n`, `setsockopt(IPV6_RTHDR, SRH type 4, segments_left 1, last_entry 1, segments [::, fd00::2])`; the kernel puts segments[1]=fd00::2 in the IPv6 destination and the final destination fd00::3 into segments[0] | va, `ip6 and src host fd00::1 and ip6[6] = 43`, 1st |
| `vxlan_udp.bin` | UDP 192.168.42.1:40042 -> 192.168.42.2:4242 `hello vxlan udp\n` over vx0 | va, `udp and src host 10.0.0.1 and dst port 4789`, 1st |
| `vxlan_tcp.bin` | TCP 192.168.42.1:40043 -> 192.168.42.2:5042, `send("hello vxlan tcp\n")` over vx0 | same filter, frame containing the payload (inner PSH/ACK) |
| `vxlan_ipv6_underlay.bin` | UDP 192.168.43.1:40043 -> 192.168.43.2:4343 `hello vxlan over ipv6\n` over vx6 | va, `ip6 and udp and src host fd00::1 and dst port 4789`, 1st |
| `geneve_udp.bin` | inner: UDP 192.168.77.1:40077 -> 192.168.77.2:7777 `hello geneve\n` captured on ovl77; sent as GENEVE (VNI 77, no options) payload of UDP 10.0.0.1:50000 -> 10.0.0.2:6081 | va, `udp and src host 10.0.0.1 and dst port 6081`, 1st |
| `geneve_options_udp.bin` | same, GENEVE header with one option: class 0xffff, type 0x01, 4 data bytes de ad be ef (opt_len 8 bytes) | same |

README_HEAD
