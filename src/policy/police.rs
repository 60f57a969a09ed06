//! Rate policers: a token bucket (packets per second) and the two-rate three-colour marker of
//! RFC 2698 (bytes per second), in integer arithmetic, fed one timestamp per burst.
//!
//! Buckets count in *token-nanoseconds*: a rate of `r` tokens per second adds exactly `r` units
//! per elapsed nanosecond, and a token costs 10^9 units, so there is no division and no rounding
//! on the hot path and the bound "admitted ≤ rate · t + burst" holds exactly. The refill saturates
//! and is capped at the burst, so it never overflows; the configuration is validated so that
//! `burst · 10^9` fits in 64 bits.
#![forbid(unsafe_code)]

/// Units per token: buckets count token-nanoseconds.
pub const UNITS_PER_TOKEN: u64 = 1_000_000_000;

/// Largest burst a bucket accepts, in tokens (so that `burst · 10^9 + rate` fits in 64 bits).
pub const MAX_BURST: u64 = 9_000_000_000;

/// Largest rate a bucket accepts, in tokens per second (10^12: 8 Tbit/s in bytes).
pub const MAX_RATE: u64 = 1_000_000_000_000;

/// Why a rate could not be set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateError {
    /// The rate is zero.
    ZeroRate,
    /// The burst is zero.
    ZeroBurst,
    /// The rate exceeds [`MAX_RATE`].
    RateTooHigh,
    /// The burst exceeds [`MAX_BURST`].
    BurstTooLarge,
    /// A trTCM's peak rate is below its committed rate (RFC 2698 §3).
    PeakBelowCommitted,
}

/// A rate and a burst size, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    per_sec: u64,
    burst: u64,
    /// `burst · 10^9`: a full bucket in token-nanoseconds.
    cap: u64,
}

impl Rate {
    /// `per_sec` tokens per second, at most `burst` tokens at once.
    ///
    /// # Errors
    ///
    /// Zero or out-of-range values.
    pub const fn new(per_sec: u64, burst: u64) -> Result<Self, RateError> {
        if per_sec == 0 {
            return Err(RateError::ZeroRate);
        }
        if burst == 0 {
            return Err(RateError::ZeroBurst);
        }
        if per_sec > MAX_RATE {
            return Err(RateError::RateTooHigh);
        }
        if burst > MAX_BURST {
            return Err(RateError::BurstTooLarge);
        }
        let cap = burst * UNITS_PER_TOKEN;
        Ok(Self {
            per_sec,
            burst,
            cap,
        })
    }

    /// Tokens per second.
    pub const fn per_sec(&self) -> u64 {
        self.per_sec
    }

    /// Burst size in tokens.
    pub const fn burst(&self) -> u64 {
        self.burst
    }
}

/// The level of one bucket and the rate that fills it (no clock: the owner keeps one time
/// stamp for all its buckets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Bucket {
    per_sec: u64,
    cap: u64,
    /// Token-nanoseconds held.
    level: u64,
}

impl Bucket {
    const fn full(rate: Rate) -> Self {
        Self {
            per_sec: rate.per_sec,
            cap: rate.cap,
            level: rate.cap,
        }
    }

    /// A bucket that never runs dry: refilled to `u64::MAX` by any elapsed time, and a burst
    /// of 32 packets takes a vanishing part of it between refills.
    const UNLIMITED: Self = Self {
        per_sec: u64::MAX,
        cap: u64::MAX,
        level: u64::MAX,
    };

    /// Adds what `elapsed` ns of the rate bring, up to the burst. Saturating arithmetic
    /// (compiled to conditional moves, no branch): a product or sum past `u64::MAX` is past
    /// the cap anyway.
    #[inline(always)]
    fn refill(&mut self, elapsed: u64) {
        let add = elapsed.saturating_mul(self.per_sec);
        self.level = self.level.saturating_add(add).min(self.cap);
    }

    #[inline(always)]
    fn has(&self, tokens: u64) -> bool {
        tokens.saturating_mul(UNITS_PER_TOKEN) <= self.level
    }

    #[inline(always)]
    fn take(&mut self, tokens: u64) {
        self.level = self
            .level
            .saturating_sub(tokens.saturating_mul(UNITS_PER_TOKEN));
    }
}

/// Nanoseconds since `*last_ns`, moving `*last_ns` to `now_ns` (0 when time went backwards).
///
/// `*last_ns` follows the clock both ways: after a step back it restarts from the earlier
/// time, so refills resume at once instead of waiting for the clock to catch up with the
/// largest time ever seen (a clock that jumped ahead and came back would otherwise freeze the
/// bucket for as long as the jump). A step back grants nothing; a jump ahead grants at most a
/// full bucket (the level is capped).
#[inline(always)]
fn advance(last_ns: &mut u64, now_ns: u64) -> u64 {
    let elapsed = now_ns.saturating_sub(*last_ns);
    *last_ns = now_ns;
    elapsed
}

/// A token bucket: admits a cost while it holds that many tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenBucket {
    bucket: Bucket,
    /// When the level was last brought up to date, ns.
    last_ns: u64,
}

impl TokenBucket {
    /// A full bucket at time `now_ns`.
    pub const fn new(rate: Rate, now_ns: u64) -> Self {
        Self {
            bucket: Bucket::full(rate),
            last_ns: now_ns,
        }
    }

    /// Brings the level up to `now_ns` (no change when time has not moved or went backwards).
    #[inline(always)]
    pub fn refill(&mut self, now_ns: u64) {
        let elapsed = advance(&mut self.last_ns, now_ns);
        self.bucket.refill(elapsed);
    }

    /// Whether `tokens` are available (after [`refill`](Self::refill)).
    #[inline(always)]
    pub fn has(&self, tokens: u64) -> bool {
        self.bucket.has(tokens)
    }

    /// Takes `tokens`, which [`has`](Self::has) said are there.
    #[inline(always)]
    pub fn take(&mut self, tokens: u64) {
        self.bucket.take(tokens);
    }

    /// Refills to `now_ns` and takes `tokens` if they are there.
    #[inline(always)]
    pub fn admit(&mut self, tokens: u64, now_ns: u64) -> bool {
        self.refill(now_ns);
        let ok = self.has(tokens);
        if ok {
            self.take(tokens);
        }
        ok
    }

    /// Whole tokens held now (after the last refill).
    pub fn tokens(&self) -> u64 {
        self.bucket.level / UNITS_PER_TOKEN
    }
}

/// RFC 2698 colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Color {
    /// Within the committed rate.
    Green,
    /// Above the committed rate, within the peak rate.
    Yellow,
    /// Above the peak rate: dropped.
    Red,
}

/// Configuration of a two-rate three-colour marker (RFC 2698): committed and peak rates with
/// their burst sizes, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrTcmConfig {
    /// Committed information rate (bytes/s) and committed burst size (bytes).
    pub committed: Rate,
    /// Peak information rate (bytes/s) and peak burst size (bytes).
    pub peak: Rate,
}

impl TrTcmConfig {
    /// A checked configuration.
    ///
    /// # Errors
    ///
    /// [`RateError::PeakBelowCommitted`] when PIR < CIR.
    pub const fn new(committed: Rate, peak: Rate) -> Result<Self, RateError> {
        if peak.per_sec < committed.per_sec {
            return Err(RateError::PeakBelowCommitted);
        }
        Ok(Self { committed, peak })
    }
}

/// A colour-blind two-rate three-colour marker (RFC 2698 §3): the P bucket (peak) and the C
/// bucket (committed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrTcm {
    c: Bucket,
    p: Bucket,
    last_ns: u64,
}

/// The colour of a packet of `bytes` against the C and P buckets (RFC 2698 §3, colour-blind).
#[inline(always)]
fn color_of(c: &Bucket, p: &Bucket, bytes: u64) -> Color {
    if !p.has(bytes) {
        Color::Red
    } else if !c.has(bytes) {
        Color::Yellow
    } else {
        Color::Green
    }
}

/// Takes the tokens of a packet of `bytes` coloured `color`: yellow from P, green from both.
#[inline(always)]
fn commit_color(c: &mut Bucket, p: &mut Bucket, bytes: u64, color: Color) {
    if color != Color::Red {
        p.take(bytes);
    }
    if color == Color::Green {
        c.take(bytes);
    }
}

impl TrTcm {
    /// Both buckets full at `now_ns` (RFC 2698: Tc(0) = CBS, Tp(0) = PBS).
    pub const fn new(config: TrTcmConfig, now_ns: u64) -> Self {
        Self {
            c: Bucket::full(config.committed),
            p: Bucket::full(config.peak),
            last_ns: now_ns,
        }
    }

    /// Brings both buckets up to `now_ns`.
    #[inline(always)]
    pub fn refill(&mut self, now_ns: u64) {
        let elapsed = advance(&mut self.last_ns, now_ns);
        self.c.refill(elapsed);
        self.p.refill(elapsed);
    }

    /// The colour a packet of `bytes` would get, without taking tokens.
    #[inline(always)]
    pub fn color(&self, bytes: u64) -> Color {
        color_of(&self.c, &self.p, bytes)
    }

    /// Takes the tokens for a packet of `bytes` that was given `color` (RFC 2698 §3: yellow
    /// takes from P, green from both, red from none).
    #[inline(always)]
    pub fn commit(&mut self, bytes: u64, color: Color) {
        commit_color(&mut self.c, &mut self.p, bytes, color);
    }

    /// Refills to `now_ns`, colours a packet of `bytes` and takes its tokens.
    #[inline(always)]
    pub fn mark(&mut self, bytes: u64, now_ns: u64) -> Color {
        self.refill(now_ns);
        let c = self.color(bytes);
        self.commit(bytes, c);
        c
    }
}

/// The rate limits of one tenant: packets per second (token bucket) and, optionally, bytes per
/// second (trTCM; red is dropped, yellow admitted and marked). `Default` is
/// [`RateLimit::UNLIMITED`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimit {
    /// Packets per second and packet burst; `None` for no packet limit.
    pub packets: Option<Rate>,
    /// Byte-rate marker; `None` for no byte limit.
    pub bytes: Option<TrTcmConfig>,
}

impl RateLimit {
    /// No limit.
    pub const UNLIMITED: Self = Self {
        packets: None,
        bytes: None,
    };

    /// This limit divided among `share` data-plane cores (each core polices its own share;
    /// bursts are divided too, at least one token each).
    pub fn divided(&self, share: u64) -> Self {
        let share = share.max(1);
        let div = |r: Rate| Rate::new((r.per_sec / share).max(1), (r.burst / share).max(1)).ok();
        Self {
            packets: self.packets.and_then(div),
            bytes: self.bytes.and_then(|b| {
                let committed = div(b.committed)?;
                let peak = div(b.peak)?;
                TrTcmConfig::new(committed, peak).ok()
            }),
        }
    }
}

/// The per-packet part of a tenant's policing state: its clock and its packet bucket, 32
/// bytes, so that a bank of them packs two tenants to a cache line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(32))]
pub(crate) struct Head {
    last_ns: u64,
    packets: Bucket,
}

/// The byte part of a tenant's policing state: the trTCM's C and P buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bytes {
    committed: Bucket,
    peak: Bucket,
}

impl Head {
    pub(crate) const fn new(limit: &RateLimit, now_ns: u64) -> Self {
        Self {
            last_ns: now_ns,
            packets: match limit.packets {
                Some(r) => Bucket::full(r),
                None => Bucket::UNLIMITED,
            },
        }
    }
}

impl Bytes {
    /// Placeholder for a tenant without a byte limit (never consulted).
    pub(crate) const UNLIMITED: Self = Self {
        committed: Bucket::UNLIMITED,
        peak: Bucket::UNLIMITED,
    };

    /// The byte buckets of `limit`, if it limits bytes.
    pub(crate) const fn new(limit: &RateLimit) -> Option<Self> {
        match limit.bytes {
            Some(c) => Some(Self {
                committed: Bucket::full(c.committed),
                peak: Bucket::full(c.peak),
            }),
            None => None,
        }
    }
}

/// Polices one packet of `len` bytes at `now_ns`: the packet bucket first (a packet without a
/// token is red and takes nothing), then the trTCM if the tenant limits bytes; an admitted
/// packet takes its packet token.
#[inline(always)]
pub(crate) fn police_parts(
    head: &mut Head,
    bytes: Option<&mut Bytes>,
    len: u64,
    now_ns: u64,
) -> Color {
    let elapsed = advance(&mut head.last_ns, now_ns);
    // Every packet of a burst shares its timestamp: only the tenant's first packet of the
    // burst finds time elapsed (a refill by 0 changes nothing).
    if elapsed != 0 {
        head.packets.refill(elapsed);
    }
    if head.packets.level < UNITS_PER_TOKEN {
        return Color::Red;
    }
    let color = match bytes {
        Some(b) => {
            if elapsed != 0 {
                b.committed.refill(elapsed);
                b.peak.refill(elapsed);
            }
            let c = color_of(&b.committed, &b.peak, len);
            commit_color(&mut b.committed, &mut b.peak, len, c);
            c
        }
        None => Color::Green,
    };
    if color != Color::Red {
        head.packets.level -= UNITS_PER_TOKEN;
    }
    color
}

/// The policing state of one tenant on one core: its clock, its packet bucket and, when it
/// limits bytes, the trTCM's two buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TenantPolicer {
    head: Head,
    bytes: Option<Bytes>,
}

impl TenantPolicer {
    /// Full buckets for `limit` at `now_ns`.
    pub const fn new(limit: RateLimit, now_ns: u64) -> Self {
        Self {
            head: Head::new(&limit, now_ns),
            bytes: Bytes::new(&limit),
        }
    }

    /// Polices one packet of `bytes` at `now_ns` (the burst's timestamp): `Red` means drop.
    /// Tokens are taken only from an admitted packet, so a dropped one costs the tenant nothing.
    #[inline(always)]
    pub fn police(&mut self, bytes: u64, now_ns: u64) -> Color {
        police_parts(&mut self.head, self.bytes.as_mut(), bytes, now_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_checked() {
        assert_eq!(Rate::new(0, 1), Err(RateError::ZeroRate));
        assert_eq!(Rate::new(1, 0), Err(RateError::ZeroBurst));
        assert_eq!(Rate::new(MAX_RATE + 1, 1), Err(RateError::RateTooHigh));
        assert_eq!(Rate::new(1, MAX_BURST + 1), Err(RateError::BurstTooLarge));
        let c = Rate::new(100, 10).unwrap();
        let p = Rate::new(50, 10).unwrap();
        assert_eq!(TrTcmConfig::new(c, p), Err(RateError::PeakBelowCommitted));
    }

    #[test]
    fn bucket_admits_burst_then_rate() {
        // 1000 packets/s, burst 10: 10 at once, then one per millisecond.
        let mut b = TokenBucket::new(Rate::new(1000, 10).unwrap(), 0);
        let admitted = (0..20).filter(|_| b.admit(1, 0)).count();
        assert_eq!(admitted, 10);
        assert!(!b.admit(1, 999_999));
        assert!(b.admit(1, 1_000_000));
        assert!(!b.admit(1, 1_000_000));
        // A long idle period refills to the burst, not beyond (no overflow even at the end of
        // time).
        b.refill(u64::MAX);
        assert_eq!(b.tokens(), 10);
    }

    #[test]
    fn trtcm_colours_follow_rfc_2698() {
        // CIR 1000 B/s CBS 1000, PIR 2000 B/s PBS 2000.
        let cfg = TrTcmConfig::new(
            Rate::new(1000, 1000).unwrap(),
            Rate::new(2000, 2000).unwrap(),
        )
        .unwrap();
        let mut m = TrTcm::new(cfg, 0);
        assert_eq!(m.mark(600, 0), Color::Green); // Tc 400, Tp 1400
        assert_eq!(m.mark(600, 0), Color::Yellow); // Tc 400, Tp 800
        assert_eq!(m.mark(600, 0), Color::Yellow); // Tc 400, Tp 200
        assert_eq!(m.mark(600, 0), Color::Red); // unchanged
        assert_eq!(m.mark(200, 0), Color::Green); // Tp 200 ≥ 200 and Tc 400 ≥ 200
        assert_eq!(m.mark(1, 0), Color::Red); // Tp empty
    }

    #[test]
    fn dropped_packets_take_no_tokens() {
        let limit = RateLimit {
            packets: Some(Rate::new(1, 5).unwrap()),
            bytes: Some(
                TrTcmConfig::new(Rate::new(100, 100).unwrap(), Rate::new(100, 100).unwrap())
                    .unwrap(),
            ),
        };
        let mut p = TenantPolicer::new(limit, 0);
        // Too big for the byte buckets: red, and the packet token stays.
        assert_eq!(p.police(1000, 0), Color::Red);
        for _ in 0..5 {
            assert_ne!(p.police(10, 0), Color::Red);
        }
        assert_eq!(p.police(10, 0), Color::Red);
    }
}
