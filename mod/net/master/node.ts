import type { AdapterSummary } from "../../gpu/mod.ts";

/** What the master knows about one rendering node (the local GPU, or a slave). */
export interface NodeInfo {
  /** "local" or the slave's address. */
  id: string;
  /** Host name the node reported. */
  host: string;
  /** Its GPUs. */
  gpus: AdapterSummary[];
  /** Pixel samples it contributed. */
  samples: number;
  /** Bytes the master sent to it (on the wire: handshake and encryption included). */
  bytesSent: number;
  /** Bytes received from it. */
  bytesReceived: number;
  /** Render data uploaded to it and the bytes it needed, on the wire (compressed), for the current render. */
  upload: { sent: number; total: number };
  /** Raw bytes of the render-data sections sent to it, every render together. */
  renderDataBytes: number;
  /** Bytes those sections took on the wire (compressed where it paid). */
  renderDataWireBytes: number;
  /** Pixel samples per second, smoothed. */
  rate: number;
  /** Still connected (the local node: still rendering). */
  active: boolean;
  /** Result payload bytes received. */
  resultBytes: number;
  /** Uncompressed size of those results. */
  resultRawBytes: number;
  /** Milliseconds from connecting to the first merged sample (slaves). */
  firstSampleMs?: number;
  /** performance.now() of the first merged sample (slaves). */
  firstSampleAt?: number;
  /** performance.now() of its last merged result. */
  lastResultAt?: number;
  /** Why it left (a slave gone, dropped or stopped), once it did. */
  left?: string;
  /** The slave's process id, as it reported it (daemons report the same for the slaves they start). */
  pid?: number;
}

/** A node that has contributed nothing yet. */
export function newNode(id: string, host: string, gpus: AdapterSummary[]): NodeInfo {
  const fresh = {
    samples: 0,
    bytesSent: 0,
    bytesReceived: 0,
    rate: 0,
    resultBytes: 0,
    resultRawBytes: 0,
    renderDataBytes: 0,
    renderDataWireBytes: 0,
  };
  return { id, host, gpus, ...fresh, upload: { sent: 0, total: 0 }, active: true };
}
