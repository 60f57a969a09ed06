#!/usr/bin/env bash
# Capture real client first flights (TLS ClientHello, HTTP/1.1, HTTP/2, gRPC)
# as request-classifier test fixtures.
#
# Each tests/fixtures/l7/<name>.bin is the exact sequence of bytes a real
# client sent on one TCP connection before the server said anything (for the
# h2c / gRPC captures: before and right after the server's SETTINGS + SETTINGS
# ACK, see below). A small python3 listener accepts one connection, reads
# until 300 ms of silence (500 ms after its h2 answer) or 64 KiB, writes what
# it read and closes.
#
# Everything runs in two private network namespaces joined by a veth pair
# (MTU 1500): S (listeners; the loopback clients run here too, on S's own
# 127.0.0.1) and C (headless Chromium only, talking to 10.0.0.2 over the
# veth). The Chromium connection is also captured with tcpdump on the veth in
# C, with TSO/GSO and checksum offload off, so the ~2 KB ClientHello leaves as
# two real MSS-sized TCP segments with correct checksums; their Ethernet
# frames are written as chromium_seg1.frame / chromium_seg2.frame.
#
# The script then regenerates tests/fixtures/l7/README.md from the files it
# wrote: every fact in it is decoded by the embedded python (TLS, HTTP/1.1,
# HTTP/2 + HPACK via the `hpack` package, gRPC + protobuf) and, when tshark is
# installed, cross-checked against tshark's dissectors (set NO_TSHARK=1 to
# skip); a mismatch fails the run.
#
# Needs root, iproute2 (ip), ethtool, tcpdump, curl, openssl, gnutls-cli
# (gnutls-bin), chromium, python3 with grpcio and hpack; tshark optional.
#   apt-get install -y curl openssl gnutls-bin chromium tcpdump iproute2 ethtool tshark
#   pip install grpcio hpack
# Usage: sudo scripts/capture-l7-fixtures.sh [OUTPUT_DIR]
#   KEEP_WORK=1  keep the work dir (pcaps, client logs); its path is printed
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$ROOT/tests/fixtures/l7}
WORK=$(mktemp -d /tmp/l7-fixtures.XXXXXX)
NS_S=l7s-$$
NS_C=l7c-$$
FX=$WORK/fx.py
BG_PIDS=()

# Real clients honour these; the captures must go straight to the listener.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY grpc_proxy

die() { echo "error: $*" >&2; exit 1; }

cleanup() {
    local pid
    for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    ip netns del "$NS_S" 2>/dev/null || true
    ip netns del "$NS_C" 2>/dev/null || true
    if [ "${KEEP_WORK:-0}" = 1 ]; then
        echo "work dir kept in $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || die "must run as root"
for t in ip ethtool tcpdump curl openssl gnutls-cli chromium python3 timeout; do
    command -v "$t" >/dev/null || die "missing tool: $t"
done
python3 -c 'import grpc, hpack' 2>/dev/null || die "python3 needs grpcio and hpack (pip install grpcio hpack)"
if [ "${NO_TSHARK:-0}" != 1 ] && command -v tshark >/dev/null && command -v text2pcap >/dev/null; then
    TSHARK=1
else
    TSHARK=0
fi

cat >"$FX" <<'PYEOF'
import json, os, re, socket, struct, subprocess, sys, tempfile, time

# ---------------------------------------------------------------- listener --
H2_PREFACE = b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'
H2_SERVER_SETTINGS = bytes.fromhex('000000040000000000')  # SETTINGS, empty
H2_SETTINGS_ACK = bytes.fromhex('000000040100000000')     # SETTINGS, ACK


def h2_first_frame_done(buf):
    """True once the preface and the client's first complete frame are in buf."""
    if len(buf) < 24 + 9 or not buf.startswith(H2_PREFACE):
        return False
    n = int.from_bytes(buf[24:27], 'big')
    return len(buf) >= 24 + 9 + n


def listen(mode, host, port, out, meta):
    """Accept one connection, record its first flight, close."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    s.listen(8)
    s.settimeout(60)
    with open(meta, 'w') as f:
        f.write('listening\n')
    c, peer = s.accept()
    t0 = time.monotonic()
    quiet = 0.3
    answered = False
    buf = bytearray()
    c.settimeout(quiet)
    while len(buf) < 65536 and time.monotonic() - t0 < 5:
        try:
            d = c.recv(65536 - len(buf))
        except socket.timeout:
            break
        if not d:
            break
        buf += d
        if mode == 'h2' and not answered and h2_first_frame_done(buf):
            c.sendall(H2_SERVER_SETTINGS + H2_SETTINGS_ACK)
            answered = len(buf)
            c.settimeout(0.5)
    with open(out, 'wb') as f:
        f.write(bytes(buf))
    with open(meta, 'a') as f:
        f.write('peer %s %d\nbytes %d\nanswered_after %d\n' % (peer[0], peer[1], len(buf), answered))
    c.close()
    s.close()


# ------------------------------------------------------------- gRPC client --
def grpc_client(target, method, payload_hex, *md):
    import grpc
    ch = grpc.insecure_channel(target, options=[('grpc.enable_http_proxy', 0)])
    call = ch.unary_unary(method, request_serializer=lambda b: b,
                          response_deserializer=lambda b: b)
    metadata = [tuple(kv.split('=', 1)) for kv in md]
    try:
        call(bytes.fromhex(payload_hex), metadata=metadata, timeout=3)
        print('unexpected response')
    except grpc.RpcError as e:
        print('rpc ended as expected:', e.code())
    ch.close()


# ----------------------------------------------------------- pcap / frames --
def read_pcap(path):
    data = open(path, 'rb').read()
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        e = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        e = '>'
    else:
        raise SystemExit('not a classic pcap: %s' % path)
    linktype = struct.unpack(e + 'I', data[20:24])[0]
    if linktype != 1:
        raise SystemExit('pcap link type %d, want Ethernet (1)' % linktype)
    off, frames = 24, []
    while off + 16 <= len(data):
        _, _, incl, orig = struct.unpack(e + 'IIII', data[off:off + 16])
        if incl != orig:
            raise SystemExit('truncated frame in pcap')
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames


def parse_tcp_frame(fr):
    if len(fr) < 14 + 20 or fr[12:14] != b'\x08\x00':
        return None
    ip = 14
    ihl = (fr[ip] & 15) * 4
    if fr[ip + 9] != 6:
        return None
    tot = int.from_bytes(fr[ip + 2:ip + 4], 'big')
    t = ip + ihl
    sport, dport, seq, ack = struct.unpack('!HHII', fr[t:t + 12])
    doff = (fr[t + 12] >> 4) * 4
    flags = fr[t + 13]
    pay = t + doff
    plen = ip + tot - pay
    return dict(src=socket.inet_ntoa(fr[ip + 12:ip + 16]), dst=socket.inet_ntoa(fr[ip + 16:ip + 20]),
                sport=sport, dport=dport, seq=seq, ack=ack, flags=flags,
                ip_off=ip, tcp_off=t, pay_off=pay, pay_len=plen, frame_len=len(fr),
                ip_id=int.from_bytes(fr[ip + 4:ip + 6], 'big'))


def frames(pcap, client_port, srv_port, binfile, outdir, prefix, infojson):
    """Write the client's data segments of the first flight as raw frames."""
    client_port, srv_port = int(client_port), int(srv_port)
    want = open(binfile, 'rb').read()
    isn, segs, seen = None, [], set()
    for fr in read_pcap(pcap):
        p = parse_tcp_frame(fr)
        if p is None:
            continue
        if p['sport'] == srv_port and p['dport'] == client_port and p['pay_len'] > 0:
            break  # the server spoke: first flight over (never happens for TLS)
        if p['sport'] != client_port or p['dport'] != srv_port:
            continue
        if p['flags'] & 0x02:
            isn = p['seq']
        if p['pay_len'] == 0 or p['seq'] in seen:
            continue
        seen.add(p['seq'])
        segs.append((p, fr))
    if isn is None:
        raise SystemExit('no SYN for client port %d in pcap' % client_port)
    got = b''.join(fr[p['pay_off']:p['pay_off'] + p['pay_len']] for p, fr in segs)
    if got != want:
        raise SystemExit('segment payloads (%d B in %d segments) != %s (%d B)'
                         % (len(got), len(segs), binfile, len(want)))
    if len(segs) != 2:
        raise SystemExit('wanted the first flight in 2 TCP segments, got %d' % len(segs))
    info = []
    for i, (p, fr) in enumerate(segs, 1):
        name = '%s%d.frame' % (prefix, i)
        with open(os.path.join(outdir, name), 'wb') as f:
            f.write(fr)
        p = dict(p, name=name, isn=isn, rel_seq=(p['seq'] - isn) & 0xffffffff)
        info.append(p)
    with open(infojson, 'w') as f:
        json.dump(info, f)


# ------------------------------------------------------------- TLS decoder --
EXT_NAMES = {
    0: 'server_name', 5: 'status_request', 10: 'supported_groups', 11: 'ec_point_formats',
    13: 'signature_algorithms', 16: 'alpn', 17: 'status_request_v2', 18: 'signed_cert_timestamp',
    21: 'padding', 22: 'encrypt_then_mac', 23: 'extended_master_secret',
    27: 'compress_certificate', 28: 'record_size_limit', 35: 'session_ticket', 41: 'pre_shared_key',
    43: 'supported_versions', 45: 'psk_key_exchange_modes', 49: 'post_handshake_auth',
    50: 'signature_algorithms_cert', 51: 'key_share', 0x4469: 'application_settings(old)',
    0x44cd: 'application_settings', 0xca34: 'unassigned (Chrome experimental; trust_anchors draft)', 0xfe0d: 'encrypted_client_hello', 0xff01: 'renegotiation_info',
}
GROUP_NAMES = {
    0x17: 'secp256r1', 0x18: 'secp384r1', 0x19: 'secp521r1', 0x1d: 'x25519', 0x1e: 'x448',
    0x100: 'ffdhe2048', 0x101: 'ffdhe3072', 0x102: 'ffdhe4096', 0x103: 'ffdhe6144',
    0x104: 'ffdhe8192', 0x11ec: 'X25519MLKEM768', 0x6399: 'X25519Kyber768Draft00',
}
VERSION_NAMES = {0x0300: 'SSL 3.0', 0x0301: 'TLS 1.0', 0x0302: 'TLS 1.1', 0x0303: 'TLS 1.2',
                 0x0304: 'TLS 1.3'}


def is_grease(v):
    return (v & 0x0f0f) == 0x0a0a and (v >> 8) == (v & 0xff)


def hx(v):
    return '0x%04x' % v


def hxg(v, names=None):
    s = hx(v)
    if is_grease(v):
        return s + ' (GREASE)'
    if names and v in names:
        return '%s (%s)' % (s, names[v])
    return s


def u16list(b):
    return [int.from_bytes(b[i:i + 2], 'big') for i in range(0, len(b) - 1, 2)]


def parse_tls(data):
    recs, off, hs = [], 0, b''
    while off + 5 <= len(data):
        ctype, ver, ln = data[off], int.from_bytes(data[off + 1:off + 3], 'big'), int.from_bytes(data[off + 3:off + 5], 'big')
        recs.append(dict(type=ctype, version=ver, length=ln))
        if ctype == 22:
            hs += data[off + 5:off + 5 + ln]
        off += 5 + ln
    if off != len(data):
        raise SystemExit('trailing/partial TLS record (%d of %d bytes parsed)' % (off, len(data)))
    if not recs or recs[0]['type'] != 22 or hs[0] != 1:
        raise SystemExit('not a ClientHello')
    hlen = int.from_bytes(hs[1:4], 'big')
    ch = hs[4:4 + hlen]
    r = dict(records=recs, hs_len=hlen, hs_total=hlen + 4)
    r['legacy_version'] = int.from_bytes(ch[0:2], 'big')
    p = 34
    sid = ch[p]; r['session_id_len'] = sid; p += 1 + sid
    cl = int.from_bytes(ch[p:p + 2], 'big'); r['ciphers'] = u16list(ch[p + 2:p + 2 + cl]); p += 2 + cl
    cm = ch[p]; p += 1 + cm
    el = int.from_bytes(ch[p:p + 2], 'big'); p += 2
    end = p + el
    exts = []
    while p < end:
        t, l = int.from_bytes(ch[p:p + 2], 'big'), int.from_bytes(ch[p + 2:p + 4], 'big')
        exts.append((t, ch[p + 4:p + 4 + l]))
        p += 4 + l
    r['exts'] = [(t, len(b)) for t, b in exts]
    r['sni'] = None; r['alpn'] = []; r['supported_versions'] = None; r['groups'] = []
    r['key_shares'] = []; r['ech'] = None
    for t, b in exts:
        if t == 0:
            q = 2
            while q < len(b):
                nt, nl = b[q], int.from_bytes(b[q + 1:q + 3], 'big')
                if nt == 0:
                    r['sni'] = b[q + 3:q + 3 + nl].decode()
                q += 3 + nl
        elif t == 16:
            q = 2
            while q < len(b):
                r['alpn'].append(b[q + 1:q + 1 + b[q]].decode('latin-1')); q += 1 + b[q]
        elif t == 43:
            r['supported_versions'] = u16list(b[1:1 + b[0]])
        elif t == 10:
            r['groups'] = u16list(b[2:])
        elif t == 51:
            q = 2
            while q < len(b):
                g, l = int.from_bytes(b[q:q + 2], 'big'), int.from_bytes(b[q + 2:q + 4], 'big')
                r['key_shares'].append((g, l)); q += 4 + l
        elif t == 0xfe0d:
            # ECHClientHello: type(1) outer: kdf(2) aead(2) config_id(1) enc<2> payload<2>
            if b[0] == 0:
                kdf, aead, cid = int.from_bytes(b[1:3], 'big'), int.from_bytes(b[3:5], 'big'), b[5]
                el_ = int.from_bytes(b[6:8], 'big'); pl = int.from_bytes(b[8 + el_:10 + el_], 'big')
                r['ech'] = dict(len=len(b), type='outer', kdf=kdf, aead=aead, config_id=cid, enc_len=el_, payload_len=pl)
            else:
                r['ech'] = dict(len=len(b), type='inner' if b[0] == 1 else str(b[0]))
    return r


# ---------------------------------------------------------- HTTP decoders --
def parse_http1(data):
    head, sep, body = data.partition(b'\r\n\r\n')
    if not sep:
        raise SystemExit('no end of HTTP/1 header block')
    lines = head.decode('latin-1').split('\r\n')
    method, target, version = lines[0].split(' ')
    hdrs = [tuple(x.strip() for x in l.split(':', 1)) for l in lines[1:]]
    return dict(method=method, path=target, version=version, headers=hdrs, body=body,
                header_len=len(head) + 4)


H2_TYPES = {0: 'DATA', 1: 'HEADERS', 2: 'PRIORITY', 3: 'RST_STREAM', 4: 'SETTINGS', 5: 'PUSH_PROMISE',
            6: 'PING', 7: 'GOAWAY', 8: 'WINDOW_UPDATE', 9: 'CONTINUATION'}
H2_SETTINGS = {1: 'HEADER_TABLE_SIZE', 2: 'ENABLE_PUSH', 3: 'MAX_CONCURRENT_STREAMS',
               4: 'INITIAL_WINDOW_SIZE', 5: 'MAX_FRAME_SIZE', 6: 'MAX_HEADER_LIST_SIZE',
               8: 'ENABLE_CONNECT_PROTOCOL', 9: 'NO_RFC7540_PRIORITIES'}


def h2_flag_names(t, f):
    names = []
    if t in (0, 1) and f & 1: names.append('END_STREAM')
    if t in (4, 6) and f & 1: names.append('ACK')
    if t in (1, 5, 9) and f & 4: names.append('END_HEADERS')
    if t in (0, 1, 5) and f & 8: names.append('PADDED')
    if t == 1 and f & 0x20: names.append('PRIORITY')
    return '|'.join(names) or '-'


def parse_pb(b):
    """Schema-less protobuf: list of (field, wire type, value)."""
    out, p = [], 0

    def varint(p):
        v, s = 0, 0
        while True:
            c = b[p]; v |= (c & 0x7f) << s; p += 1; s += 7
            if not c & 0x80:
                return v, p
    while p < len(b):
        key, p = varint(p)
        fn, wt = key >> 3, key & 7
        if wt == 0:
            v, p = varint(p)
        elif wt == 2:
            l, p = varint(p); v = b[p:p + l]; p += l
            try:
                v = v.decode('utf-8')
            except UnicodeDecodeError:
                pass
        elif wt == 1:
            v = b[p:p + 8]; p += 8
        elif wt == 5:
            v = b[p:p + 4]; p += 4
        else:
            raise SystemExit('bad protobuf wire type %d' % wt)
        out.append((fn, wt, v))
    return out


def parse_h2(data):
    import hpack
    if not data.startswith(H2_PREFACE):
        raise SystemExit('no HTTP/2 client preface')
    dec = hpack.Decoder()
    p, out = 24, []
    while p + 9 <= len(data):
        ln = int.from_bytes(data[p:p + 3], 'big'); t = data[p + 3]; f = data[p + 4]
        sid = int.from_bytes(data[p + 5:p + 9], 'big') & 0x7fffffff
        pl = data[p + 9:p + 9 + ln]
        if len(pl) != ln:
            raise SystemExit('truncated h2 frame')
        fr = dict(offset=p, length=ln, type=t, flags=f, stream=sid)
        if t == 4 and not f & 1:
            fr['settings'] = [(int.from_bytes(pl[i:i + 2], 'big'), int.from_bytes(pl[i + 2:i + 6], 'big'))
                              for i in range(0, ln, 6)]
        elif t == 8:
            fr['increment'] = int.from_bytes(pl, 'big') & 0x7fffffff
        elif t == 1:
            q, e = 0, ln
            if f & 8:
                e -= pl[0]; q = 1
            if f & 0x20:
                q += 5
            if not f & 4:
                raise SystemExit('CONTINUATION not handled')
            fr['headers'] = [(k if isinstance(k, str) else k.decode(), v if isinstance(v, str) else v.decode())
                             for k, v in dec.decode(bytes(pl[q:e]))]
        elif t == 0:
            q, e = 0, ln
            if f & 8:
                e -= pl[0]; q = 1
            fr['data'] = bytes(pl[q:e])
        elif t == 6:
            fr['opaque'] = pl.hex()
        out.append(fr)
        p += 9 + ln
    if p != len(data):
        raise SystemExit('trailing bytes after h2 frames')
    return out


def grpc_messages(body):
    msgs, p = [], 0
    while p + 5 <= len(body):
        comp, ln = body[p], int.from_bytes(body[p + 1:p + 5], 'big')
        msgs.append(dict(compressed=comp, length=ln, fields=parse_pb(body[p + 5:p + 5 + ln])))
        p += 5 + ln
    return msgs


def hdr(headers, name):
    for k, v in headers:
        if k.lower() == name.lower():
            return v
    return None


def model_of(path, headers, body):
    """Where a classifier finds the model: (source, value) list."""
    found = []
    m = re.match(r'^/v2/models/([^/?]+)(?:/versions/([^/?]+))?', path or '')
    if m:
        found.append(('path', m.group(1) + ('' if m.group(2) is None else ' (version %s)' % m.group(2))))
    for h in ('x-ai-eg-model',):
        if hdr(headers, h):
            found.append(('header ' + h, hdr(headers, h)))
    if body:
        try:
            j = json.loads(body)
            if isinstance(j, dict) and 'model' in j:
                keys = list(j)
                found.append(('body "model" (key %d of %d)' % (keys.index('model') + 1, len(keys)), j['model']))
        except ValueError:
            pass
    return found


# ------------------------------------------------------------------ tshark --
def tshark_fields(data, sport, dport, decode_as, fields, extra=()):
    """Wrap data in one dummy TCP/IPv4 packet (text2pcap) and let tshark dissect it."""
    with tempfile.TemporaryDirectory() as d:
        hexf, pcap = os.path.join(d, 'x.txt'), os.path.join(d, 'x.pcap')
        with open(hexf, 'w') as f:
            for i in range(0, len(data), 16):
                f.write('%06x %s\n' % (i, ' '.join('%02x' % c for c in data[i:i + 16])))
        subprocess.run(['text2pcap', '-q', '-4', '10.0.0.1,10.0.0.2', '-T', '%d,%d' % (sport, dport), hexf, pcap],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return tshark_pcap(pcap, decode_as, fields, extra)


def tshark_pcap(pcap, decode_as, fields, extra=()):
    cmd = ['tshark', '-n', '-r', pcap, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|',
           '-E', 'separator=\t']
    for d in decode_as:
        cmd += ['-d', d]
    cmd += list(extra)
    for f in fields:
        cmd += ['-e', f]
    res = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = []
    for line in res.splitlines():
        rows.append({f: (v.split('|') if v else []) for f, v in zip(fields, line.split('\t'))})
    return rows


def tshark_version():
    return subprocess.run(['tshark', '--version'], capture_output=True, text=True).stdout.splitlines()[0]


class Mismatch(Exception):
    pass


def same(what, ours, theirs, log):
    if ours != theirs:
        raise Mismatch('%s: decoder says %r, tshark says %r' % (what, ours, theirs))
    log.append(what)


def tint(v):
    return int(v, 0)


def check_tls(name, data, r):
    log = []
    rows = tshark_fields(data, 50000, 8443, ['tcp.port==8443,tls'], [
        'tls.record.version', 'tls.record.length', 'tls.handshake.type', 'tls.handshake.length',
        'tls.handshake.version', 'tls.handshake.extension.type', 'tls.handshake.extensions_server_name',
        'tls.handshake.extensions_alpn_str', 'tls.handshake.extensions.supported_version',
        'tls.handshake.extensions_key_share_group', 'tls.handshake.ciphersuite'])
    t = rows[0]
    same('record count / lengths', [x['length'] for x in r['records']], [tint(x) for x in t['tls.record.length']], log)
    same('record versions', [x['version'] for x in r['records']], [tint(x) for x in t['tls.record.version']], log)
    same('handshake type', [1], [tint(x) for x in t['tls.handshake.type']], log)
    same('handshake length', [r['hs_len']], [tint(x) for x in t['tls.handshake.length']], log)
    same('legacy_version', [r['legacy_version']], [tint(x) for x in t['tls.handshake.version']], log)
    same('extension types in order', [x for x, _ in r['exts']], [tint(x) for x in t['tls.handshake.extension.type']], log)
    same('SNI', [r['sni']] if r['sni'] else [], t['tls.handshake.extensions_server_name'], log)
    same('ALPN', r['alpn'], t['tls.handshake.extensions_alpn_str'], log)
    same('supported_versions', r['supported_versions'] or [], [tint(x) for x in t['tls.handshake.extensions.supported_version']], log)
    same('key_share groups', [g for g, _ in r['key_shares']], [tint(x) for x in t['tls.handshake.extensions_key_share_group']], log)
    same('cipher suites', r['ciphers'], [tint(x) for x in t['tls.handshake.ciphersuite']], log)
    return log


def check_http1(name, data, r):
    log = []
    rows = tshark_fields(data, 50000, 8000, ['tcp.port==8000,http'], [
        'http.request.method', 'http.request.uri', 'http.request.version', 'http.host',
        'http.content_length', 'http.file_data'])
    t = rows[0]
    same('method', [r['method']], t['http.request.method'], log)
    same('path', [r['path']], t['http.request.uri'], log)
    same('version', [r['version']], t['http.request.version'], log)
    same('Host', [hdr(r['headers'], 'host')], t['http.host'], log)
    same('Content-Length', [int(hdr(r['headers'], 'content-length'))], [int(x) for x in t['http.content_length']], log)
    body = t['http.file_data'][0] if t['http.file_data'] else ''
    if re.fullmatch(r'[0-9a-f:]+', body) and body:  # older tshark prints bytes as hex
        body = bytes.fromhex(body.replace(':', '')).decode()
    same('body', r['body'].decode(), body, log)
    return log


def check_h2(name, data, frs, port):
    log = []
    rows = tshark_fields(data, 50000, port, ['tcp.port==%d,http2' % port], [
        'http2.type', 'http2.flags', 'http2.streamid', 'http2.length', 'http2.header.name', 'http2.header.value',
        'http2.data.data', 'grpc.message_length', 'protobuf.field.number', 'protobuf.field.value.string'])
    t = rows[0]
    same('frame types', [f['type'] for f in frs], [tint(x) for x in t['http2.type']], log)
    same('frame flags', [f['flags'] for f in frs], [tint(x) for x in t['http2.flags']], log)
    same('frame stream ids', [f['stream'] for f in frs], [tint(x) for x in t['http2.streamid']], log)
    same('frame lengths', [f['length'] for f in frs], [tint(x) for x in t['http2.length']], log)
    ours = [h for f in frs for h in f.get('headers', [])]
    same('decoded header names', [k for k, _ in ours], t['http2.header.name'], log)
    same('decoded header values', [v for _, v in ours], t['http2.header.value'], log)
    return log, t


# ------------------------------------------------------------------ README --
def md(s):
    return str(s).replace('|', '\\|')


def code(s):
    s = str(s)
    return '`` %s ``' % s if '`' in s else '`%s`' % s


def readme_file(name, meta, work, tshark):
    path = os.path.join(meta['out'], name + '.bin')
    data = open(path, 'rb').read()
    kind = meta['kind']
    L = ['### `%s.bin` (%d bytes)' % (name, len(data)), '']
    L += ['- client: %s' % meta['client'], '- command: %s' % code(meta['cmd'])]
    if meta.get('note'):
        L += ['- note: %s' % meta['note']]
    L += ['']
    summ = {}
    checks = []
    if kind == 'tls':
        r = parse_tls(data)
        if len(data) != r['hs_total'] + 5 * len(r['records']):
            raise SystemExit('%s: record bytes != one ClientHello' % name)
        sv = r['supported_versions']
        ks = ', '.join('%s %dB' % (hxg(g, GROUP_NAMES), l) for g, l in r['key_shares']) or 'none'
        ech = r['ech']
        if ech and ech['type'] == 'outer':
            echs = 'yes: 0xfe0d, %d bytes, outer, kdf %s aead %s config_id %d enc %dB payload %dB' % (
                ech['len'], hx(ech['kdf']), hx(ech['aead']), ech['config_id'], ech['enc_len'], ech['payload_len'])
        elif ech:
            echs = 'yes: 0xfe0d, %d bytes, %s' % (ech['len'], ech['type'])
        else:
            echs = 'no'
        grease_ext = [hx(t) for t, _ in r['exts'] if is_grease(t)]
        rows = [
            ('TLS records', '%d (%s)' % (len(r['records']), ', '.join('type %d version %s length %d' % (x['type'], hx(x['version']), x['length']) for x in r['records']))),
            ('hello spans more than one record', 'yes' if len(r['records']) > 1 else 'no'),
            ('handshake', 'ClientHello (type 1), body length %d, handshake message %d bytes, file %d bytes' % (r['hs_len'], r['hs_total'], len(data))),
            ('legacy_version', '%s (%s)' % (hx(r['legacy_version']), VERSION_NAMES.get(r['legacy_version'], '?'))),
            ('supported_versions', ', '.join(hxg(v, VERSION_NAMES) for v in sv) if sv is not None else 'absent (TLS 1.2 and below only)'),
            ('SNI', r['sni'] or 'absent'),
            ('ALPN', ', '.join(r['alpn']) or 'absent'),
            ('ECH (encrypted_client_hello)', echs),
            ('key_share', ks),
            ('supported_groups', ', '.join(hxg(g, GROUP_NAMES) for g in r['groups'])),
            ('cipher suites (%d)' % len(r['ciphers']), ', '.join(hxg(c) for c in r['ciphers'])),
            ('session_id length', r['session_id_len']),
            ('GREASE extension types', ', '.join(grease_ext) or 'none'),
            ('extensions in order (%d)' % len(r['exts']), ', '.join('%s%s %dB' % (hx(t), ' GREASE' if is_grease(t) else ' ' + EXT_NAMES.get(t, '?'), l) for t, l in r['exts'])),
        ]
        summ = dict(facts='SNI %s; ALPN %s; supported_versions %s; ECH %s; hello %d B in %d record(s)' % (
            r['sni'], ','.join(r['alpn']) or '-',
            ','.join(('GREASE' if is_grease(v) else hx(v)) for v in sv) if sv is not None else 'absent',
            'yes' if ech else 'no', r['hs_total'], len(r['records'])))
        if tshark:
            checks = check_tls(name, data, r)
        L += ['| fact | value |', '|---|---|'] + ['| %s | %s |' % (md(a), md(b)) for a, b in rows]
    elif kind == 'http1':
        r = parse_http1(data)
        cl = hdr(r['headers'], 'content-length')
        if cl is None or int(cl) != len(r['body']):
            raise SystemExit('%s: body length %d != Content-Length %s' % (name, len(r['body']), cl))
        models = model_of(r['path'], r['headers'], r['body'])
        rows = [('request line', '%s %s %s' % (r['method'], r['path'], r['version'])),
                ('method', r['method']), ('path', r['path']), ('Host', hdr(r['headers'], 'host')),
                ('header block', '%d bytes (through the blank line); body %d bytes' % (r['header_len'], len(r['body'])))]
        for h in ('x-gateway-inference-fairness-id', 'x-dynamo-session-id', 'x-priority', 'x-ai-eg-model'):
            if hdr(r['headers'], h) is not None:
                rows.append(('header ' + h, hdr(r['headers'], h)))
        rows += [('model', '; '.join('%s: %s' % m for m in models) or 'none'), ('body', code(r['body'].decode()))]
        summ = dict(facts='%s %s; Host %s; %s; model %s' % (
            r['method'], r['path'], hdr(r['headers'], 'host'),
            ', '.join('%s=%s' % (k, v) for k, v in r['headers'] if k.lower().startswith('x-')),
            '; '.join('%s: %s' % m for m in models)))
        if tshark:
            checks = check_http1(name, data, r)
        L += ['| fact | value |', '|---|---|'] + ['| %s | %s |' % (md(a), md(b)) for a, b in rows]
        L += ['', 'All request headers, in order:', '', '| # | name | value |', '|---|---|---|']
        L += ['| %d | %s | %s |' % (i, md(k), md(v)) for i, (k, v) in enumerate(r['headers'], 1)]
    elif kind in ('h2', 'grpc'):
        frs = parse_h2(data)
        ans = meta['answered_after']
        L += ['Starts with the 24-byte client preface `PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n`, then these frames.',
              'The listener answered (SETTINGS + SETTINGS ACK) once the first %d bytes had arrived; "sent" says' % ans,
              'whether a frame came before or after that answer.', '',
              '| # | offset | type | flags | stream | length | sent | content |', '|---|---|---|---|---|---|---|---|']
        body = b''
        hdrs = []
        for i, f in enumerate(frs, 1):
            if 'settings' in f:
                c = ', '.join('%s=%d' % (H2_SETTINGS.get(k, hx(k)), v) for k, v in f['settings']) or '(empty)'
            elif 'increment' in f:
                c = 'increment %d' % f['increment']
            elif 'headers' in f:
                c = '%d header fields (below)' % len(f['headers']); hdrs += f['headers']
            elif 'data' in f:
                c = 'data %s' % f['data'].hex(); body += f['data']
            elif 'opaque' in f:
                c = 'opaque %s' % f['opaque']
            else:
                c = ''
            if f['type'] == 4 and f['flags'] & 1:
                c = 'ACK of the server SETTINGS (sent after the listener answered)'
            L.append('| %d | %d | %s (%d) | 0x%02x %s | %d | %d | %s | %s |' % (
                i, f['offset'], H2_TYPES.get(f['type'], '?'), f['type'], f['flags'],
                h2_flag_names(f['type'], f['flags']), f['stream'], f['length'],
                'before' if f['offset'] < ans else 'after', md(c)))
        L += ['', 'Decoded header list (HPACK, python `hpack`, one decoder for the connection):', '',
              '| # | name | value |', '|---|---|---|']
        L += ['| %d | %s | %s |' % (i, md(k), md(v)) for i, (k, v) in enumerate(hdrs, 1)]
        seq = ', '.join('%s%s/s%d/%d' % (H2_TYPES[f['type']], '[' + h2_flag_names(f['type'], f['flags']) + ']' if f['flags'] else '', f['stream'], f['length']) for f in frs)
        path = hdr(hdrs, ':path')
        facts = ['%s %s' % (hdr(hdrs, ':method'), path), ':authority %s' % hdr(hdrs, ':authority')]
        facts += ['%s=%s' % (k, v) for k, v in hdrs if k.startswith('x-')]
        L += ['']
        if kind == 'h2':
            models = model_of(path, hdrs, body)
            L += ['- request body (DATA): %s' % code(body.decode()), '- model: %s' % ('; '.join('%s: %s' % m for m in models) or 'none')]
            facts.append('model %s' % '; '.join('%s: %s' % m for m in models))
        else:
            msgs = grpc_messages(body)
            for m in msgs:
                fl = ', '.join('field %d (wire type %d) = %r' % x for x in m['fields']) or 'no fields (empty message)'
                L += ['- gRPC message in DATA: compressed flag %d, length %d: %s' % (m['compressed'], m['length'], fl)]
            mn = [v for m in msgs[:1] for fn, wt, v in m['fields'] if fn == 1 and wt == 2]
            L += ['- gRPC service/method from `:path`: %s' % code(path),
                  '- model_name (ModelInferRequest field 1) in the first DATA frame: %s' % (code(mn[0]) if mn else 'none (not a ModelInfer request)')]
            facts.append('grpc message %s' % ('model_name=%s' % mn[0] if mn else 'empty'))
        summ = dict(facts='; '.join(facts) + '; frames: ' + seq)
        if tshark:
            checks, t = check_h2(name, data, frs, meta['port'])
            if kind == 'grpc' and t.get('grpc.message_length'):
                same('gRPC message length', [m['length'] for m in grpc_messages(body)], [int(x) for x in t['grpc.message_length']], checks)
    L += ['']
    if tshark:
        L += ['tshark cross-check (same values): %s.' % ', '.join(checks), '']
    return L, summ


def readme(outdir, work, names_csv):
    names = names_csv.split(',')
    tshark = os.path.exists(os.path.join(work, 'tshark'))
    metas = {}
    for n in names:
        with open(os.path.join(work, n + '.json')) as f:
            metas[n] = dict(json.load(f), out=outdir)
        for line in open(os.path.join(work, n + '.meta')):
            k, _, v = line.strip().partition(' ')
            if k == 'answered_after':
                metas[n]['answered_after'] = int(v)
    sect, summ = [], {}
    for n in names:
        L, s = readme_file(n, metas[n], work, tshark)
        sect += L
        summ[n] = s
    head = open(os.path.join(work, 'readme_head.md')).read().rstrip('\n')
    out = [head, '']
    if tshark:
        out += ['Cross-checked with: %s (text2pcap wraps each `.bin` in one dummy TCP/IPv4 packet;' % tshark_version(),
                '`tshark -d tcp.port==PORT,{tls,http,http2} -T fields`; every listed field equals the decoder\'s).', '']
    out += ['## Files', '', '| file | bytes | client | key facts |', '|---|---|---|---|']
    for n in names:
        sz = os.path.getsize(os.path.join(outdir, n + '.bin'))
        out.append('| `%s.bin` | %d | %s | %s |' % (n, sz, md(metas[n]['client']), md(summ[n]['facts'])))
    fj = os.path.join(work, 'chromium_frames.json')
    if os.path.exists(fj):
        for fr in json.load(open(fj)):
            out.append('| `%s` | %d | %s | %s |' % (fr['name'], fr['frame_len'], 'kernel TCP segment of the Chromium hello',
                                                  'payload at %d, %d bytes, rel seq %d' % (fr['pay_off'], fr['pay_len'], fr['rel_seq'])))
    out += ['', '## Per-file facts', ''] + sect
    if os.path.exists(fj):
        frs = json.load(open(fj))
        out += ['### `chromium_seg1.frame`, `chromium_seg2.frame`', '',
                'The two TCP segments that carried `chromium.bin` (same connection, captured with `tcpdump -w` on',
                'the client-side veth `vc`, MTU 1500, TSO/GSO/tx-checksum offload off; raw Ethernet frames,',
                'no pcap header, no FCS). `frame[payload offset : payload offset + payload length]` of seg1',
                'followed by that of seg2 is byte-for-byte `chromium.bin`. Offsets: Ethernet 14 bytes, IPv4',
                'at 14, TCP at 34.', '',
                '| frame | frame bytes | src -> dst | TCP seq (raw) | rel seq (ISN %d) | TCP flags | IP id | TCP header | payload offset | payload length | hello bytes |' % frs[0]['isn'],
                '|---|---|---|---|---|---|---|---|---|---|---|']
        pos = 0
        for fr in frs:
            fl = '|'.join(n for b, n in ((0x08, 'PSH'), (0x10, 'ACK')) if fr['flags'] & b)
            out.append('| `%s` | %d | %s:%d -> %s:%d | %d | %d | %s | %d | %d bytes | %d | %d | %d..%d |' % (
                fr['name'], fr['frame_len'], fr['src'], fr['sport'], fr['dst'], fr['dport'], fr['seq'],
                fr['rel_seq'], md(fl), fr['ip_id'], fr['pay_off'] - fr['tcp_off'], fr['pay_off'], fr['pay_len'],
                pos, pos + fr['pay_len'] - 1))
            pos += fr['pay_len']
        out += ['', 'seg2 seq = seg1 seq + seg1 payload length (1448 = MSS 1460 less 12 bytes of TCP timestamps).',
                'seg1 payload starts with the 5-byte TLS record header; the one record, and the ClientHello in it,',
                'ends in seg2 (its last byte is the last byte of seg2). The TCP header is 32 bytes (20 + NOP,',
                'NOP, timestamps).', '']
        if tshark:
            out += open(os.path.join(work, 'frames_check.md')).read().splitlines() + ['']
    with open(os.path.join(outdir, 'README.md'), 'w') as f:
        f.write('\n'.join(out).rstrip('\n') + '\n')


def frames_check(outdir, work):
    """tshark on a pcap built from the two .frame files: checksums + TLS reassembly."""
    frs = json.load(open(os.path.join(work, 'chromium_frames.json')))
    pcap = os.path.join(work, 'frames.pcap')
    with open(pcap, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
        for i, fr in enumerate(frs):
            b = open(os.path.join(outdir, fr['name']), 'rb').read()
            f.write(struct.pack('<IIII', 1, i, len(b), len(b)) + b)
    rows = tshark_pcap(pcap, ['tcp.port==8443,tls'], [
        'frame.number', 'tcp.seq_raw', 'tcp.len', 'tcp.flags.str', 'tcp.checksum.status', 'ip.checksum.status',
        'tls.handshake.type', 'tls.handshake.extensions_server_name', 'tcp.reassembled.length'],
        extra=['-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE',
               '-o', 'tcp.desegment_tcp_streams:TRUE', '-o', 'tcp.relative_sequence_numbers:FALSE'])
    chello = open(os.path.join(outdir, 'chromium.bin'), 'rb').read()
    L = ['tshark on a pcap made of just these two frames (`-o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE`):', '',
         '| frame | tcp.seq_raw | tcp.len | flags | tcp checksum | ip checksum | TLS dissected here |', '|---|---|---|---|---|---|---|']
    for r, fr in zip(rows, frs):
        if [int(x) for x in r['tcp.seq_raw']] != [fr['seq']] or [int(x) for x in r['tcp.len']] != [fr['pay_len']]:
            raise SystemExit('tshark disagrees on %s: %r' % (fr['name'], r))
        if r['tcp.checksum.status'] != ['1'] or r['ip.checksum.status'] != ['1']:
            raise SystemExit('bad checksum in %s: %r' % (fr['name'], r))
        tls = 'none (first part of the record)'
        if r['tls.handshake.type']:
            if r['tcp.reassembled.length'] != [str(len(chello))]:
                raise SystemExit('reassembled length %r != %d' % (r['tcp.reassembled.length'], len(chello)))
            tls = 'ClientHello reassembled from both segments (%s bytes), SNI %s' % (
                r['tcp.reassembled.length'][0], ','.join(r['tls.handshake.extensions_server_name']))
        L.append('| %s | %s | %s | %s | good | good | %s |' % (
            fr['name'], r['tcp.seq_raw'][0], r['tcp.len'][0], md(r['tcp.flags.str'][0]), tls))
    open(os.path.join(work, 'frames_check.md'), 'w').write('\n'.join(L) + '\n')


if __name__ == '__main__':
    cmd, args = sys.argv[1], sys.argv[2:]
    {'listen': listen, 'grpc': grpc_client, 'frames': frames, 'readme': readme,
     'frames_check': frames_check}[cmd](*args)
PYEOF

# ----------------------------------------------------------------- helpers --
ins() { ip netns exec "$NS_S" "$@"; }
inc() { ip netns exec "$NS_C" "$@"; }

# Display form of a command: words quoted with '' only where needed.
show_cmd() {
    local a out=()
    for a in "$@"; do
        if [[ $a =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then out+=("$a"); else out+=("'${a//\'/\'\\\'\'}'"); fi
    done
    echo "${out[*]}"
}

# meta NAME KIND PORT CLIENT NOTE CMD...  (JSON for the README generator)
meta() {
    local name=$1 kind=$2 port=$3 client=$4 note=$5
    shift 5
    python3 -c 'import json,sys; n,k,p,c,no,cmd=sys.argv[1:7]; json.dump(dict(kind=k,port=int(p),client=c,note=no,cmd=cmd),open(sys.argv[7],"w"))' \
        "$name" "$kind" "$port" "$client" "$note" "$(show_cmd "$@" | sed "s|$WORK/|\$WORK/|g")" "$WORK/$name.json"
}

# start_listener MODE PORT NAME: one-shot recorder in NS_S on 0.0.0.0:PORT.
LPID=
start_listener() {
    local mode=$1 port=$2 name=$3 i
    rm -f "$WORK/$name.meta" "$OUT/$name.bin"
    ins python3 "$FX" listen "$mode" 0.0.0.0 "$port" "$OUT/$name.bin" "$WORK/$name.meta" 2>"$WORK/$name.listener.log" &
    LPID=$!
    BG_PIDS+=("$LPID")
    for i in $(seq 100); do
        [ -s "$WORK/$name.meta" ] && return 0
        kill -0 "$LPID" 2>/dev/null || { cat "$WORK/$name.listener.log" >&2; die "listener for $name died"; }
        sleep 0.05
    done
    die "listener for $name did not start"
}

finish_listener() {
    local name=$1
    wait "$LPID" || { cat "$WORK/$name.listener.log" >&2; die "listener for $name failed"; }
    [ -s "$OUT/$name.bin" ] || die "$name: nothing recorded"
    echo "  wrote $name.bin ($(stat -c %s "$OUT/$name.bin") bytes; $(grep -E '^peer' "$WORK/$name.meta"))"
}

# capture NAME MODE PORT KIND CLIENT NOTE -- CMD...: run CMD (in NS_S) against a listener.
capture() {
    local name=$1 mode=$2 port=$3 kind=$4 client=$5 note=$6
    shift 7
    meta "$name" "$kind" "$port" "$client" "$note" "$@"
    start_listener "$mode" "$port" "$name"
    ins timeout 15 "$@" </dev/null >"$WORK/$name.client.log" 2>&1 || true
    finish_listener "$name"
}

# ------------------------------------------------------------------- setup --
mkdir -p "$OUT"
for f in curl_tls13 openssl_tls12_only openssl_no_sni gnutls chromium http1_kserve http1_openai_model_header \
    h2c_prior_knowledge grpc_modelinfer grpc_other_method; do rm -f "$OUT/$f.bin"; done
rm -f "$OUT/chromium_seg1.frame" "$OUT/chromium_seg2.frame"
ip netns add "$NS_S"
ip netns add "$NS_C"
for ns in "$NS_S" "$NS_C"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
done
ip link add vc address 02:00:00:00:00:0c mtu 1500 netns "$NS_C" type veth peer name vs address 02:00:00:00:00:05 mtu 1500 netns "$NS_S"
ip -n "$NS_C" addr add 10.0.0.1/24 dev vc
ip -n "$NS_S" addr add 10.0.0.2/24 dev vs
ip -n "$NS_C" neigh add 10.0.0.2 lladdr 02:00:00:00:00:05 dev vc nud permanent
ip -n "$NS_S" neigh add 10.0.0.1 lladdr 02:00:00:00:00:0c dev vs nud permanent
# Segment in the kernel's TCP (no TSO/GSO super-packets), real checksums in the frames.
inc ethtool -K vc tso off gso off gro off tx off >/dev/null
ins ethtool -K vs tso off gso off gro off tx off >/dev/null
ip -n "$NS_C" link set vc up
ip -n "$NS_S" link set vs up

V_CURL=$(curl --version | head -1 | awk '{print $1" "$2" ("$5")"}')
V_OPENSSL=$(openssl version | awk '{print $1" "$2}')
V_GNUTLS=$(gnutls-cli --version 2>/dev/null | head -1)
V_CHROMIUM=$(chromium --version 2>/dev/null | grep -i chromium | head -1 | awk '{print $1" "$2}')
V_GRPC="grpcio $(python3 -c 'import grpc; print(grpc.__version__)') (grpc-c core), CPython $(python3 -c 'import platform; print(platform.python_version())')"

# ------------------------------------------------------------ TLS hellos --
TLS_PORT=8443
echo "TLS ClientHellos (NS_S loopback, port $TLS_PORT)"
capture curl_tls13 tls $TLS_PORT tls "$V_CURL" "" -- \
    curl -sS -k --max-time 5 --resolve "tenant-c.infer.example:$TLS_PORT:127.0.0.1" "https://tenant-c.infer.example:$TLS_PORT/v1/models"
capture openssl_tls12_only tls $TLS_PORT tls "$V_OPENSSL s_client" "" -- \
    openssl s_client -connect "127.0.0.1:$TLS_PORT" -tls1_2 -servername tenant-b.infer.example -alpn http/1.1
capture openssl_no_sni tls $TLS_PORT tls "$V_OPENSSL s_client -noservername" "" -- \
    openssl s_client -connect "127.0.0.1:$TLS_PORT" -noservername
capture gnutls tls $TLS_PORT tls "$V_GNUTLS" "" -- \
    gnutls-cli --port=$TLS_PORT --sni-hostname=tenant-d.infer.example --alpn=h2 --insecure 127.0.0.1

# Chromium: from NS_C over the veth, with tcpdump on the veth.
echo "Chromium ClientHello (NS_C -> 10.0.0.2:$TLS_PORT over veth, MTU 1500, tcpdump on vc)"
PROFILE=$WORK/chromium-profile
mkdir -p "$PROFILE"
CHROMIUM_CMD=(chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
    --disable-background-networking --disable-component-update --disable-sync
    "--user-data-dir=$PROFILE" "--host-resolver-rules=MAP tenant-f.infer.example 10.0.0.2"
    --dump-dom "https://tenant-f.infer.example:$TLS_PORT/")
meta chromium tls $TLS_PORT "$V_CHROMIUM (headless, Debian package)" \
    "run in namespace C; tenant-f.infer.example is mapped to the listener's veth address 10.0.0.2 (not 127.0.0.1) so the connection crosses the MTU-1500 veth; --dump-dom makes headless Chromium exit after the failed load; the profile dir is a fresh empty directory" \
    "${CHROMIUM_CMD[@]}"
inc tcpdump -i vc -nn -U -s 0 -w "$WORK/chromium.pcap" "tcp port $TLS_PORT" >"$WORK/tcpdump.log" 2>&1 &
TCPDUMP_PID=$!
BG_PIDS+=("$TCPDUMP_PID")
for i in $(seq 100); do grep -q 'listening on' "$WORK/tcpdump.log" && break; sleep 0.05; done
grep -q 'listening on' "$WORK/tcpdump.log" || { cat "$WORK/tcpdump.log" >&2; die "tcpdump did not start"; }
start_listener tls $TLS_PORT chromium
inc timeout 40 "${CHROMIUM_CMD[@]}" </dev/null >"$WORK/chromium.client.log" 2>&1 || true
finish_listener chromium
sleep 0.5
kill -TERM "$TCPDUMP_PID" 2>/dev/null || true
wait "$TCPDUMP_PID" || true
CPORT=$(awk '/^peer/ {print $3}' "$WORK/chromium.meta")
python3 "$FX" frames "$WORK/chromium.pcap" "$CPORT" $TLS_PORT "$OUT/chromium.bin" "$OUT" chromium_seg "$WORK/chromium_frames.json"
echo "  wrote chromium_seg1.frame, chromium_seg2.frame (client port $CPORT)"

# ---------------------------------------------------------------- HTTP/1.1 --
HTTP_PORT=8000
echo "HTTP/1.1 requests (NS_S loopback, port $HTTP_PORT)"
capture http1_kserve http1 $HTTP_PORT http1 "$V_CURL" "" -- \
    curl -sS --http1.1 --max-time 5 -X POST "http://127.0.0.1:$HTTP_PORT/v2/models/resnet50/versions/2/infer" \
    -H 'Content-Type: application/json' \
    -H 'x-gateway-inference-fairness-id: tenant-b' -H 'X-Dynamo-Session-ID: sess-7' -H 'x-priority: high' \
    -d '{"inputs":[{"name":"input0","shape":[1,3],"datatype":"FP32","data":[0.1,0.2,0.3]}]}'
capture http1_openai_model_header http1 $HTTP_PORT http1 "$V_CURL" "" -- \
    curl -sS --http1.1 --max-time 5 "http://127.0.0.1:$HTTP_PORT/v1/completions" \
    -H 'Content-Type: application/json' -H 'x-ai-eg-model: mistral-7b' \
    -d '{"prompt":"hi","model":"mistral-7b","max_tokens":5}'

# ------------------------------------------------------------- h2c / gRPC --
echo "h2c prior knowledge (NS_S loopback, port $HTTP_PORT; listener answers SETTINGS + SETTINGS ACK)"
H2_NOTE='the listener answers the preface + first SETTINGS with 000000040000000000 (SETTINGS) and 000000040100000000 (SETTINGS ACK), then records until 500 ms of silence'
capture h2c_prior_knowledge h2 $HTTP_PORT h2 "$V_CURL" "$H2_NOTE" -- \
    curl -sS --http2-prior-knowledge --max-time 5 "http://127.0.0.1:$HTTP_PORT/v1/chat/completions" \
    -H 'x-gateway-inference-fairness-id: tenant-a' -H 'X-Dynamo-Session-ID: sess-99' \
    -d '{"model":"llama-3.1-8b-instruct","messages":[]}'

GRPC_PORT=8001
echo "gRPC over h2c (NS_S loopback, port $GRPC_PORT)"
# ModelInferRequest{model_name(1)="resnet50", model_version(2)="1"}, hand-encoded.
MODELINFER_PB=0a08$(printf resnet50 | od -An -tx1 | tr -d ' \n')120131
GRPC_CLIENT_NOTE="python3 client: grpc.insecure_channel('127.0.0.1:$GRPC_PORT', options=[('grpc.enable_http_proxy', 0)]).unary_unary(PATH, request_serializer=lambda b: b, response_deserializer=lambda b: b)(bytes.fromhex(HEX), metadata=[('x-gateway-inference-fairness-id', 'tenant-g')], timeout=3); $H2_NOTE"
capture grpc_modelinfer h2 $GRPC_PORT grpc "$V_GRPC" "$GRPC_CLIENT_NOTE" -- \
    python3 "$FX" grpc "127.0.0.1:$GRPC_PORT" /inference.GRPCInferenceService/ModelInfer "$MODELINFER_PB" \
    x-gateway-inference-fairness-id=tenant-g
capture grpc_other_method h2 $GRPC_PORT grpc "$V_GRPC" "$GRPC_CLIENT_NOTE" -- \
    python3 "$FX" grpc "127.0.0.1:$GRPC_PORT" /inference.GRPCInferenceService/ServerLive "" \
    x-gateway-inference-fairness-id=tenant-g

# ---------------------------------------------------------------- README --
ORDER=curl_tls13,openssl_tls12_only,openssl_no_sni,gnutls,chromium,http1_kserve,http1_openai_model_header,h2c_prior_knowledge,grpc_modelinfer,grpc_other_method
sed -n '/^: <<.README_HEAD.$/,/^README_HEAD$/p' "${BASH_SOURCE[0]}" | sed '1d;$d' |
    sed "s|@DATE@|$(date -u +%Y-%m-%d)|; s|@OS@|$(. /etc/os-release; echo "$PRETTY_NAME")|; s|@KERNEL@|$(uname -r)|" \
        >"$WORK/readme_head.md"
if [ "$TSHARK" = 1 ]; then
    touch "$WORK/tshark"
    python3 "$FX" frames_check "$OUT" "$WORK"
fi
python3 "$FX" readme "$OUT" "$WORK" "$ORDER"
echo "wrote $OUT/README.md (tshark cross-check: $([ "$TSHARK" = 1 ] && echo yes || echo no))"
ls -l "$OUT"
exit 0

# The README head is kept here so the script stays the single source of truth.
: <<'README_HEAD'
# L7 fixtures: real client first flights

Every `*.bin` here is the exact byte sequence one real client sent on one TCP
connection, as returned by the listener's `recv` calls, before the server sent
anything (TLS, HTTP/1.1), or, for HTTP/2 and gRPC, everything the client sent
in the first 500 ms of silence-bounded reading after the listener answered the
preface with one empty SETTINGS frame and a SETTINGS ACK (so the client goes on
to send HEADERS and DATA). Nothing is edited. The two `*.frame` files are raw
Ethernet frames (no pcap header, no FCS) of the two TCP segments that carried
`chromium.bin`.

Everything here (and this README) is produced by
[`scripts/capture-l7-fixtures.sh`](../../../scripts/capture-l7-fixtures.sh)
(as root: `sudo scripts/capture-l7-fixtures.sh`), last run @DATE@ on @OS@,
kernel @KERNEL@. The facts below are decoded from the written files by the
script's embedded python (TLS record/ClientHello parser, HTTP/1.1 parser,
HTTP/2 frame parser with the `hpack` package for header blocks, gRPC framing
and a schema-less protobuf reader), not copied from the commands.

Topology: two private network namespaces joined by a veth pair (MTU 1500):
S holds the listeners (0.0.0.0) and also runs every client except Chromium,
which talk to S's own loopback 127.0.0.1; C (10.0.0.1, `vc`) runs headless
Chromium against S (10.0.0.2, `vs`). TLS listeners are on port 8443,
HTTP/1.1 and h2c on 8000, gRPC on 8001. The TLS listener never answers, so
each TLS file is one ClientHello; the HTTP/1.1 listener never answers either.
Every client ran under `timeout`, with stdin from /dev/null and no proxy
variables set; it fails once the listener closes, which is expected. In the
commands, `$WORK` is the script's temporary directory and `$WORK/fx.py` the
python embedded in the script (its `grpc` mode is the grpcio client shown in
the note).

Stable across re-runs: SNI, ALPN, versions, cipher/extension/group lists of the
non-browser clients, HTTP request lines, headers and bodies, h2 frame layout.
Different on every run: TLS random, session id, key shares, GREASE values and
Chromium's extension order (it permutes them) and ECH GREASE payload, gRPC
`grpc-timeout` value, TCP ports/sequence numbers/IP ids and checksums in the
frames. Sizes can change with client versions.

How to use them: feed a `.bin` to the classifier as the first bytes of a
connection (all of it, or cut at any point to test "need more bytes"); for the
frames, run the wire parser on each `.frame` and feed the two payloads in order.
README_HEAD
