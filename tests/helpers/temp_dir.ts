/** Temporary directories for tests, removed after use. */

/** Runs `fn` with a new temporary directory, removed after. */
export function withTempDirSync(fn: (dir: string) => void): void {
  const dir = Deno.makeTempDirSync({ prefix: "sluice-test-" });
  try {
    fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** Runs `fn` with a new temporary directory, removed once it settles. */
export async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sluice-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
