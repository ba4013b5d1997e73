/** sluice's version, printed by `--version` and in the ready line. */
export const VERSION = "0.1.0";
