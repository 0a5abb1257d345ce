/**
 * Installing the daemon to start at login: a systemd user unit, an XDG autostart entry, a launchd
 * LaunchAgent or a Windows Startup script, from templates in install/templates.
 * @module
 */
export {
  installedStartup,
  isStartupKind,
  KIND_NAMES,
  removeStartupEntry,
  STARTUP_ENV,
  type StartupContext,
  startupContext,
  type StartupEntry,
  startupEntry,
  type StartupKind,
  startupPath,
  systemdRuns,
  writeStartupEntry,
} from "./startup.ts";
