/**
 * Version numbers every node reports: the program's and the wire protocol's.
 * @module
 */

/** The octane release, reported by `octane --version`, `info`, reports and handshakes. */
export const VERSION = "0.1.0";

/** The network protocol version; peers of another protocol version are refused. */
export const PROTOCOL_VERSION = 3;
