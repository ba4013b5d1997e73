/**
 * The pidfile (HAProxy's `pidfile`, the CLI's `-p`): the process id, written
 * once sluice listens and removed when it stops, for scripts that signal or
 * watch the process.
 *
 * @module
 */
import { errMsg, SluiceError } from "../core/errors.ts";

/** Writes this process's id to `path`; a file that cannot be written is an ERR_CONFIG error. */
export function pidfileWrite(path: string): void {
  try {
    Deno.writeTextFileSync(path, `${Deno.pid}\n`);
  } catch (err) {
    // Deno's messages end with the operation and path: the path is said already.
    const why = errMsg(err).replace(/: [a-z]+ '[^']*'$/, "");
    throw new SluiceError("ERR_CONFIG", `Cannot write the pidfile "${path}": ${why}`);
  }
}

/**
 * Removes the pidfile at `path` when it still holds this process's id (a
 * process started since may have taken it over). Never throws: stopping
 * goes on whatever happened to the file.
 */
export function pidfileRemove(path: string): void {
  try {
    if (Deno.readTextFileSync(path).trim() === String(Deno.pid)) Deno.removeSync(path);
  } catch {
    // Gone already, or not readable: nothing of ours to remove.
  }
}
