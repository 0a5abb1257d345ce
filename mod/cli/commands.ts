import {
  DAEMON_PORT,
  GRACE_SECONDS,
  HEARTBEAT_TIMEOUT_SECONDS,
  MASTER_PORT,
  SCAN_INTERVAL_SECONDS,
  UNIT_TIMEOUT_SECONDS,
  VERIFY_FRACTION,
} from "../net/defaults.ts";
import { LIVE_VIEW_PORT } from "../live/mod.ts";
import { IMAGE_DEFAULTS, IMAGE_LIMITS } from "../session/mod.ts";
import { CAMERA_FLAGS } from "./camera_args.ts";
import { type CommandSpec, COMMON_FLAGS, type Flag } from "./flags.ts";

/** Defaults of `octane demo`, shown by its help and filled in by its parser. */
export const DEMO_DEFAULTS = {
  spp: 64,
  width: 256,
  height: 256,
  output: "demo.png",
  report: "demo-report.json",
} as const;

/** The first port the loopback demo's daemons try (`--lan` uses the daemons' own default). */
export const DEMO_DAEMON_PORT = 48100;

/** The default PNG of render and master. */
const OUTPUT_DEFAULT = "render.png";

/** Ports: 1 to 65535. */
const PORT = { kind: "int", min: 1, max: 65535 } as const;
/** Ports to listen on: 0 (any free port, printed on the listening line) to 65535. */
const LISTEN_PORT = { kind: "int", min: 0, max: 65535 } as const;
/** Image sides in pixels. */
const IMAGE_SIDE = { kind: "int", ...IMAGE_LIMITS.side } as const;
/** Most daemons `demo --lan N` starts: each is a host with a daemon and then a slave on this machine's cores. */
export const MAX_LAN_DAEMONS = 32;

/** --help, --verbose and --debug; `verbose`: a command's own words for --verbose. */
function common(words: { verbose?: string } = {}): readonly [
  (typeof COMMON_FLAGS)[0],
  { readonly name: "verbose"; readonly description: string },
  (typeof COMMON_FLAGS)[2],
] {
  const [help, verbose, debug] = COMMON_FLAGS;
  return [help, { ...verbose, description: words.verbose ?? verbose.description }, debug];
}

const IMAGE_FLAGS = [
  {
    name: "spp",
    value: "N",
    kind: "int",
    ...IMAGE_LIMITS.spp,
    default: IMAGE_DEFAULTS.spp,
    description: "samples per pixel",
  },
  {
    name: "width",
    value: "W",
    kind: "int",
    ...IMAGE_LIMITS.side,
    default: IMAGE_DEFAULTS.width,
    description: "image width in pixels; a glTF camera's aspect ratio sets the side not given (the " +
      "longer side is the default when neither is)",
  },
  {
    name: "height",
    value: "H",
    kind: "int",
    ...IMAGE_LIMITS.side,
    default: IMAGE_DEFAULTS.height,
    description: "image height in pixels (see --width)",
  },
  {
    name: "seed",
    value: "S",
    kind: "int",
    ...IMAGE_LIMITS.seed,
    default: IMAGE_DEFAULTS.seed,
    description: "random seed; the same seed and spp give the same image",
  },
  {
    name: "max-depth",
    value: "N",
    kind: "int",
    ...IMAGE_LIMITS.maxDepth,
    default: IMAGE_DEFAULTS.maxDepth,
    description: "longest path, in bounces",
  },
] as const satisfies readonly Flag[];

const OUTPUT_FLAGS = [
  { name: "output", short: "o", value: "FILE", default: OUTPUT_DEFAULT, description: "the PNG to write" },
  {
    name: "hdr",
    value: "FILE",
    defaultText: "none",
    description: "also write linear HDR radiance: .exr (32-bit float OpenEXR, with the AOV channels " +
      "albedo.R/G/B and normal.X/Y/Z) or .pfm (colour only)",
  },
  {
    name: "aov",
    value: "DIR",
    defaultText: "none",
    description: "also write the first-hit AOVs into folder DIR (made if missing): albedo.exr and " +
      "normal.exr (32-bit float), albedo.png and normal.png (previews)",
  },
  {
    name: "report",
    value: "FILE",
    defaultText: "none",
    description: "write a JSON report: version, scene hash, timings, samples of every node",
  },
  {
    name: "denoise",
    description: "denoise the image with OIDN's U-Net on this machine's GPU; -o and --hdr get the denoised " +
      "image and the raw one goes beside each with .raw before the extension (out.raw.png)",
  },
] as const satisfies readonly Flag[];

const SCENE_FLAGS = [
  {
    name: "camera",
    value: "NAME",
    defaultText: "the scene's first camera",
    description: "glTF: render through the camera of this name (an error where the scene has none of " +
      "that name)",
  },
  {
    name: "camera-file",
    value: "FILE",
    defaultText: "none",
    description: "render through the camera of this JSON file (position, target, up, fov in degrees), " +
      "as the master's live view saves it",
  },
  ...CAMERA_FLAGS,
  {
    name: "env",
    value: "FILE",
    defaultText: "none",
    description: "light the scene with an equirectangular Radiance .hdr map (+Y up)",
  },
  {
    name: "env-intensity",
    value: "X",
    kind: "non-negative",
    defaultText: "1; a .ocrd's: as compiled",
    description: "multiply the environment (map or colour) by X",
  },
] as const satisfies readonly Flag[];

const TIME_LIMIT = {
  name: "time-limit",
  value: "SECONDS",
  kind: "positive",
  defaultText: "none",
  description: "stop after about this long and write the samples done so far",
} as const satisfies Flag;

const QUIET = {
  name: "quiet",
  description: "no status line, and of the logs only warnings and errors",
} as const satisfies Flag;

const KEY_FILE = {
  name: "key-file",
  value: "FILE",
  defaultText: "$OCTANE_KEY_FILE, else ~/.config/octane/key if it exists",
  description: "the farm key (octane key generate) every node of the farm holds",
} as const satisfies Flag;

const STARTUP = {
  name: "startup",
  value: "KIND",
  defaultText: "systemd where it runs, else xdg; launchd on macOS; windows",
  description: "how the daemon starts: systemd (user unit), xdg (desktop autostart), launchd or windows",
} as const satisfies Flag;

/** `octane render`. */
export const RENDER = {
  name: "render",
  usage: ["octane render [SCENE] [options]"],
  about: `Path-traces SCENE on this machine's GPU: a built-in name (default "cornell"), a glTF 2.0
(.gltf, .glb) or OBJ (.obj with .mtl) file, or compiled render data (.ocrd, from "octane compile").
Scene files without a camera are seen from a raised three-quarter view (30 degrees around from the
front, 20 up) that frames the whole model, or from inside where the scene encloses its centre (a room);
scenes without lights get a uniform white environment. The first line ends with the camera used, as
flags (--look-from ... --fov ...) that render the same image when passed back.`,
  maxPositionals: 1,
  groups: [{
    title: "Options",
    flags: [...IMAGE_FLAGS, ...OUTPUT_FLAGS, ...SCENE_FLAGS, TIME_LIMIT, QUIET, ...common()],
  }],
  notes: "Ctrl-C stops after the batch in flight and writes what has been rendered.",
} as const satisfies CommandSpec;

/** `octane compile`. */
export const COMPILE = {
  name: "compile",
  usage: ["octane compile SCENE -o FILE.ocrd [options]"],
  about: `Compiles SCENE (a built-in name or a scene file) into render data: the BVH, triangles, materials,
lights and camera that every node renders from. "octane render" and "octane master" accept the .ocrd in
place of the scene and need nothing else.`,
  maxPositionals: 1,
  groups: [{
    title: "Options",
    flags: [
      {
        name: "output",
        short: "o",
        value: "FILE",
        defaultText: "none, required",
        description: "the .ocrd file to write",
      },
      ...SCENE_FLAGS,
      ...common(),
    ],
  }],
} as const satisfies CommandSpec;

/** `octane info`. */
export const INFO = {
  name: "info",
  usage: ["octane info [--json]"],
  about: "Prints the version, protocol version, OS/architecture and every WebGPU adapter of this machine.",
  groups: [{
    title: "Options",
    flags: [{ name: "json", description: "print it as JSON" }, ...common()],
  }],
} as const satisfies CommandSpec;

/** `octane master`. */
export const MASTER = {
  name: "master",
  usage: ["octane master [SCENE] [options]"],
  about: `Renders SCENE (as "octane render" takes it) with this machine's GPU and every slave that joins
("octane slave --master THIS_HOST:PORT"), merging their samples into one image. Slaves may join at any
time; the render data is sent to each. Prints "Master listening on HOST:PORT" on stdout.`,
  maxPositionals: 1,
  groups: [
    {
      title: "Network",
      flags: [
        {
          name: "port",
          value: "N",
          ...LISTEN_PORT,
          default: MASTER_PORT,
          description: "port slaves join on (0: any free port, printed on the listening line)",
        },
        {
          name: "auto-port",
          description: "take the next free port when --port is busy (several masters on one computer)",
        },
        { name: "bind", value: "ADDR", default: "0.0.0.0", description: "address to listen on" },
        {
          ...KEY_FILE,
          description: "the farm key every slave and daemon must hold; without one, links are encrypted " +
            "but any host that reaches the port may join",
        },
        {
          name: "heartbeat-timeout",
          value: "SECONDS",
          kind: "positive",
          default: HEARTBEAT_TIMEOUT_SECONDS,
          description: "drop a slave silent for this long",
        },
        { name: "no-local-render", description: "only slaves render" },
        {
          name: "wait-slaves",
          value: "N",
          kind: "int",
          min: 0,
          max: 1024,
          default: 0,
          description: "start rendering once N slaves have the render data (scripted farm renders)",
        },
        {
          name: "wait-timeout",
          value: "SECONDS",
          kind: "positive",
          defaultText: "forever",
          description: "with --wait-slaves: start anyway after this long with the slaves that are ready",
        },
        {
          name: "verify",
          value: "FRACTION",
          kind: "fraction",
          default: VERIFY_FRACTION,
          description: "render this fraction of the slaves' units again on another node and compare " +
            "(0: off); a slave that disagrees with a third render is dropped and its part redone",
        },
        {
          name: "unit-timeout",
          value: "SECONDS",
          kind: "positive",
          default: UNIT_TIMEOUT_SECONDS,
          description: "a unit not answered within this long (or 4x its expected time) also goes to " +
            "another node; the first answer counts",
        },
      ],
    },
    {
      title: "Image and scene",
      flags: [
        ...IMAGE_FLAGS,
        ...OUTPUT_FLAGS,
        ...SCENE_FLAGS,
        {
          ...TIME_LIMIT,
          description: "stop after about this long of rendering, as Ctrl-C does",
        },
        {
          name: "watch",
          description: "when the scene file changes, send slaves only the changed sections and render " +
            "again; outputs are rewritten after every render; Ctrl-C stops",
        },
        QUIET,
      ],
    },
    {
      title: "Daemons",
      flags: [
        { name: "net", description: "scan the subnets of this machine's network interfaces for daemons" },
        {
          name: "subnet",
          value: "CIDR",
          defaultText: "the interfaces' subnets",
          multiple: true,
          description: "scan this subnet instead, e.g. 192.168.1.0/24",
        },
        { name: "daemon-port", value: "N", ...PORT, default: DAEMON_PORT, description: "the daemons' port" },
        {
          name: "scan-interval",
          value: "SECONDS",
          kind: "positive",
          default: SCAN_INTERVAL_SECONDS,
          description: "time between scans",
        },
        {
          name: "enable",
          value: "all|none|HOST,...",
          default: "all",
          description: "which daemons found start a slave for this master: all, none (list them only), " +
            "or these addresses or host names",
        },
      ],
    },
    {
      title: "Live view",
      flags: [
        {
          name: "ui",
          value: "[ADDR:]PORT",
          defaultText: `127.0.0.1, the first free port from ${LIVE_VIEW_PORT}`,
          description: "serve the live view web page here: the image as it converges, nodes, daemons, " +
            "camera, controls, log; its URL (with an access token) is printed on stderr; port 0 takes any free one",
        },
        { name: "no-ui", description: "serve no live view" },
        {
          name: "keep-open",
          description: "after the render, keep the master, its slaves and the live view up until Ctrl-C " +
            "(a camera move or a restart from the page renders again)",
        },
      ],
    },
    { title: "Other", flags: common() },
  ],
  notes: `Daemons render without slaves started by hand (see "octane daemon --help"). Scanning is on
when any of --net, --subnet or --enable is given. Daemons of another octane version are listed and not
enabled.

Ctrl-C (or SIGTERM, or --time-limit) stops handing out work, merges the units in flight, writes every
output with the samples done (the report says "interrupted": true), says bye to the slaves and exits 0
(130, writing nothing, when no sample was merged yet); a second Ctrl-C quits at once (130).`,
} as const satisfies CommandSpec;

/** `octane slave`. */
export const SLAVE = {
  name: "slave",
  usage: [
    "octane slave --master HOST:PORT [options]",
    "octane slave --net-master-address HOST --net-master-port PORT [options]",
  ],
  about: `Renders samples for one master on this machine's GPU, keeping the render data in memory only.
Started before its master, it waits for it, trying again with back-off, and says so once. Ctrl-C
returns the unfinished work to the master and exits 0; when the master finishes the slave exits 0; if
the master goes away it says so and exits 1 (with --keep-running it waits for the next render).`,
  groups: [{
    title: "Options",
    flags: [
      {
        name: "master",
        value: "HOST:PORT",
        defaultText: "none, required",
        description: "the master to render for",
      },
      {
        name: "net-master-address",
        value: "HOST",
        defaultText: "none",
        description: "the master's address (Octane's spelling of --master)",
      },
      {
        name: "net-master-port",
        value: "PORT",
        ...PORT,
        default: MASTER_PORT,
        description: "the master's port, with --net-master-address",
      },
      KEY_FILE,
      {
        name: "heartbeat-timeout",
        value: "SECONDS",
        kind: "int",
        min: 1,
        max: 3600,
        default: HEARTBEAT_TIMEOUT_SECONDS,
        description: "give up on a master silent for this long",
      },
      {
        name: "wait",
        value: "SECONDS",
        kind: "non-negative",
        defaultText: "forever",
        description: "give up (exit 1) when no master answers within this long (0: try once); a " +
          "wrong key, another release or a port that is not a master's ends the wait at once",
      },
      {
        name: "keep-running",
        description: "after the master finishes or goes away, wait at the same address for the next " +
          "render, until Ctrl-C (as Octane's slave console does)",
      },
      {
        name: "probe",
        description: "print this node's version, OS/arch and GPUs as one JSON line and exit " +
          "(daemons run this once at start)",
      },
      {
        name: "daemon",
        value: "HOST:PORT",
        defaultText: "none",
        description: "the daemon that started this slave (set by the daemon, with its token)",
      },
      ...common(),
    ],
  }],
} as const satisfies CommandSpec;

/** `octane daemon`. */
export const DAEMON = {
  name: "daemon",
  usage: [
    "octane daemon [options]",
    "octane daemon install | uninstall | status [options]",
  ],
  about: `The daemon lets masters on the LAN find this machine ("octane master --net" or --subnet) and
start a slave on its GPUs for one master at a time; other masters are told which master it is busy
with. It stops the slave when the master asks, when the master goes away, or when the slave's heartbeat
stops (SIGTERM, then SIGKILL after a grace period). At start it runs the slave once to learn the
version, OS/arch and GPUs it reports.`,
  groups: [{
    title: "Options",
    flags: [
      {
        name: "port",
        value: "N",
        ...LISTEN_PORT,
        default: DAEMON_PORT,
        description: "port masters probe (0: any free port, printed on the listening line)",
      },
      { name: "bind", value: "ADDR", default: "0.0.0.0", description: "address to listen on" },
      {
        name: "heartbeat-timeout",
        value: "SECONDS",
        kind: "positive",
        default: HEARTBEAT_TIMEOUT_SECONDS,
        description: "stop a slave (or drop a master) silent for this long",
      },
      {
        name: "grace",
        value: "SECONDS",
        kind: "positive",
        default: GRACE_SECONDS,
        description: "time between SIGTERM and SIGKILL",
      },
      {
        ...KEY_FILE,
        description: "the farm key masters must hold; its slaves use it too. Without one, links are " +
          "encrypted but any host on the LAN may start a slave",
      },
      ...common({ verbose: "accepted; a daemon always logs informational lines (its log is its output)" }),
    ],
  }],
  notes: `Subcommands (each has --help):
  install     start the daemon at every login (systemd user unit, XDG autostart,
              launchd LaunchAgent or Windows Startup script)
  uninstall   stop it and remove the start-up entry
  status      whether it is installed, running, and on which port`,
} as const satisfies CommandSpec;

/** `octane daemon install`. */
export const DAEMON_INSTALL = {
  name: "daemon install",
  usage: ["octane daemon install [options]"],
  about: `Starts the daemon at every login from this octane's path: a systemd user unit (Linux with
systemd), else an XDG autostart entry (Linux desktops), a LaunchAgent (macOS) or a Startup script
(Windows). Without --port it asks for one. Without --key-file and without a default key file, it offers
to create the key, and prints the command that copies it to the master.`,
  groups: [{
    title: "Options",
    flags: [
      {
        name: "port",
        value: "N",
        ...PORT,
        defaultText: `asks; RETURN takes the installed port, else ${DAEMON_PORT}`,
        description: "port masters probe",
      },
      { ...KEY_FILE, description: "the farm key the daemon and its slaves use" },
      STARTUP,
      {
        name: "no-start",
        description: "only write and enable the entry; otherwise the daemon also starts now " +
          "where the system can (systemd, launchd)",
      },
      ...common(),
    ],
  }],
  notes: `An XDG autostart entry runs only when someone logs in to a desktop. On a headless node use
--startup systemd, and run "loginctl enable-linger $USER" once so that the user's systemd, and the
daemon, start at boot without a login.`,
} as const satisfies CommandSpec;

/** `octane daemon uninstall`. */
export const DAEMON_UNINSTALL = {
  name: "daemon uninstall",
  usage: ["octane daemon uninstall [options]"],
  about: "Stops the installed daemon and removes its start-up entry.",
  groups: [{
    title: "Options",
    flags: [{ name: "no-stop", description: "leave a running daemon running" }, STARTUP, ...common()],
  }],
} as const satisfies CommandSpec;

/** `octane daemon status`. */
export const DAEMON_STATUS = {
  name: "daemon status",
  usage: ["octane daemon status [options]"],
  about: `Says whether the daemon is installed, whether one answers on the port, and what it reports.
Exits 0 when a daemon answers, 3 when none does.`,
  groups: [{
    title: "Options",
    flags: [
      {
        name: "port",
        value: "N",
        ...PORT,
        defaultText: `the installed port, else ${DAEMON_PORT}`,
        description: "port to ask on",
      },
      { name: "bind", value: "ADDR", default: "127.0.0.1", description: "address to ask at" },
      { ...KEY_FILE, description: "the farm key the daemon holds" },
      STARTUP,
      ...common(),
    ],
  }],
} as const satisfies CommandSpec;

/** `octane key generate`. */
export const KEY_GENERATE = {
  name: "key generate",
  usage: ["octane key generate [-o FILE] [--force]"],
  about: `Writes a new random 256-bit farm key (64 hex digits) to FILE with mode 0600. Master, slave and
daemon read the default key file when no --key-file is given.

Every node of a farm needs the same key: copy the file to each (keep its mode 0600). With a key, every
link proves it in a Noise handshake (Noise_NNpsk0_25519_ChaChaPoly_BLAKE2b) and is encrypted; a host
without it cannot join a render, start a slave or read render data.`,
  groups: [{
    title: "Options",
    flags: [
      {
        name: "output",
        short: "o",
        value: "FILE",
        defaultText: "~/.config/octane/key, or $XDG_CONFIG_HOME/octane/key",
        description: `where to write it; "-" prints it instead`,
      },
      { name: "force", description: "replace an existing key file (every node then needs the new key)" },
      ...common(),
    ],
  }],
} as const satisfies CommandSpec;

/** `octane demo`. */
export const DEMO = {
  name: "demo",
  usage: ["octane demo [options]"],
  about: `The whole mission on one machine, on loopback: daemons on 127.0.0.2 and 127.0.0.3, a
master on 127.0.0.1 that scans 127.0.0.0/29 for them and enables both; each daemon starts a slave, and
the master renders the Cornell box with both slaves and its own GPU, writes the image and a report of
who rendered what, then everything shuts down.

With --lan N (root, Linux) it builds a LAN of network namespaces instead: a master host and N daemon
hosts on one bridge in a private 10.213.X.0/24 with no default route, so nothing leaves this machine. The
master runs with --net inside its host and finds the daemons by scanning its own interface's subnet, as on
a real LAN. The namespaces are removed at the end. Without root it says why and runs on loopback.`,
  groups: [{
    title: "Options",
    flags: [
      {
        name: "lan",
        value: "N",
        kind: "int",
        min: 1,
        max: MAX_LAN_DAEMONS,
        defaultText: "off: loopback",
        description: `run on a namespace LAN with N daemons (1 to ${MAX_LAN_DAEMONS}; root, Linux)`,
      },
      {
        name: "spp",
        value: "N",
        kind: "int",
        min: 1,
        max: 1 << 20,
        default: DEMO_DEFAULTS.spp,
        description: "samples per pixel",
      },
      {
        name: "width",
        value: "W",
        ...IMAGE_SIDE,
        default: DEMO_DEFAULTS.width,
        description: "image width in pixels",
      },
      {
        name: "height",
        value: "H",
        ...IMAGE_SIDE,
        default: DEMO_DEFAULTS.height,
        description: "image height in pixels",
      },
      {
        name: "output",
        short: "o",
        value: "FILE",
        default: DEMO_DEFAULTS.output,
        description: "the PNG to write",
      },
      {
        name: "report",
        value: "FILE",
        default: DEMO_DEFAULTS.report,
        description: "the JSON report to write",
      },
      {
        name: "daemon-port",
        value: "N",
        ...PORT,
        defaultText: `the first free one from ${DEMO_DAEMON_PORT}; ${DAEMON_PORT} with --lan`,
        description: "the daemons' port",
      },
      {
        name: "ui",
        description: "keep the whole loopback LAN up after the render, with the master's live view, until " +
          "Ctrl-C",
      },
      ...common({ verbose: "also show the daemons' own logs" }),
    ],
  }],
} as const satisfies CommandSpec;

/** Every command's spec, for help tests. */
export const COMMANDS: readonly CommandSpec[] = [
  RENDER,
  COMPILE,
  INFO,
  MASTER,
  SLAVE,
  DAEMON,
  DAEMON_INSTALL,
  DAEMON_UNINSTALL,
  DAEMON_STATUS,
  KEY_GENERATE,
  DEMO,
];
