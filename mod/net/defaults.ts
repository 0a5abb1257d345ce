/**
 * Every network default and limit in one place: the CLI's flag defaults and the library's fallbacks both
 * read them from here.
 * @module
 */

/** Port a master listens on for slaves. */
export const MASTER_PORT = 21000;
/** Port daemons listen on for masters (and their slaves' heartbeat links). */
export const DAEMON_PORT = 48000;

/** Seconds between heartbeats on every link. */
export const HEARTBEAT_SECONDS = 1;
/** Seconds without a frame after which a peer counts as gone. */
export const HEARTBEAT_TIMEOUT_SECONDS = 10;
/** Milliseconds for the clear preamble, the Noise handshake and the first message, per side. */
export const HANDSHAKE_TIMEOUT_MS = 5000;
/** Milliseconds a slave waits for its master's answer when joining. */
export const JOIN_TIMEOUT_MS = 10_000;

/** Seconds between subnet scans. */
export const SCAN_INTERVAL_SECONDS = 5;
/**
 * Scans in a row a listed daemon may leave unanswered before the list drops it: a host busy starting
 * slaves can miss one probe's deadline without having left.
 */
export const MISSED_SCANS = 2;
/** Milliseconds for a probe's connection and for each answer. */
export const PROBE_TIMEOUT_MS = 1000;
/** Probes at once during a scan. */
export const SCAN_CONCURRENCY = 128;
/**
 * Seconds a slave a daemon started may take to open its heartbeat link, when that is longer than the
 * heartbeat timeout: a cold start on a loaded machine (Deno loading, the GPU driver) is not a hang.
 */
export const SLAVE_START_SECONDS = 10;
/** Seconds between SIGTERM and SIGKILL when a daemon stops its slave. */
export const GRACE_SECONDS = 3;
/** Restarts of a failed slave, per master, before a daemon gives up. */
export const MAX_RESTARTS = 3;
/** Seconds a master's link to a daemon may idle while it holds no slave. */
export const DAEMON_IDLE_SECONDS = 30;

/** Target seconds of rendering per work unit. */
export const UNIT_SECONDS = 1;
/** Work units in flight per slave: one rendering, one on the wire. */
export const UNITS_IN_FLIGHT = 2;
/** Bytes of render data per section message. */
export const SECTION_CHUNK_BYTES = 1 << 20;
/** Largest render-data section, raw or on the wire. */
export const MAX_SECTION_BYTES = 1 << 30;
/**
 * zstd level of render-data sections on the wire. The water bottle's 67 MB of textures on one core here:
 * level 1 to 13.1% in ~0.2 s, 3 to 12.8% in ~0.2-0.3 s, 9 to 10.8% in ~1 s; decoding takes ~0.2 s at each.
 */
export const SECTION_ZSTD_LEVEL = 3;
/** Sections smaller than this travel raw: too little to gain. */
export const SECTION_ZSTD_MIN_BYTES = 4096;
/** A section travels compressed only when that takes at most this fraction of its raw bytes. */
export const SECTION_ZSTD_MAX_RATIO = 0.9;

/** Largest application message of any kind (a result of a whole image band). */
export const MAX_MESSAGE_BYTES = 64 << 20;
/** Largest control message (JSON: hello, scene, work, status…). */
export const MAX_CONTROL_BYTES = 64 << 10;

/** Connections in their handshake (not yet proven) at once, in all; more are closed at once. */
export const HANDSHAKES_AT_ONCE = 64;
/** Connections in their handshake at once from one address. */
export const HANDSHAKES_AT_ONCE_PER_HOST = 8;
/** Handshakes one address may start per second, on average. */
export const HANDSHAKE_RATE_PER_HOST = 30;
/** Handshakes one address may start at once after a quiet spell. */
export const HANDSHAKE_BURST_PER_HOST = 60;

/** Least seconds a node has for a unit before it is handed to another node too (twice that for a first). */
export const UNIT_TIMEOUT_SECONDS = 10;
/** Fraction of the units merged from slaves that another node renders again to check them. */
export const VERIFY_FRACTION = 0.02;
/** Milliseconds the master waits for its goodbyes to be written when a render ends. */
export const BYE_TIMEOUT_MS = 2000;
