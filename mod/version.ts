/**
 * Version numbers every node reports: the program's and the wire protocol's.
 * @module
 */

/** The octane release, reported by `octane --version`, `info`, reports and handshakes. */
export const VERSION = "0.1.0";

/**
 * The network protocol version; peers of another protocol version are refused. 4: the render data's
 * materials, textures (mip chains) and triangles changed layout, and a punctual-light section came. 5: a
 * scene offer may ask for AOVs, and results then carry their sums after the radiance.
 */
export const PROTOCOL_VERSION = 5;
