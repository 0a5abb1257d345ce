/**
 * A LAN in a box for tests, benchmarks and `octane demo --lan`: namespace hosts on a bridge, one private
 * /24, no default route, optional link rates, links that go down and hosts that die.
 * @module
 */
export {
  Lan,
  LAN_PREFIX,
  LanError,
  type LanHost,
  type LanOptions,
  lanUnavailable,
  parseRate,
  removeStaleLans,
} from "./lan.ts";
