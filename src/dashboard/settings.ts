// The dashboard's one setting, read from the environment with the same rules as src/config.ts: unset means the
// default; an invalid value stops start-up with one line naming the variable, the value and what is expected.
import { ConfigError } from "../config.ts";

/** DASHBOARD_SESSION_HOURS by default: a sign-in lasts a working day. */
export const DEFAULT_DASHBOARD_SESSION_HOURS = 12;

/** DASHBOARD_SESSION_HOURS: how long a dashboard sign-in lasts, in hours (0.1 to 720; fractions allowed). */
export function dashboardSessionHours(env: Record<string, string | undefined> = process.env): number {
  const raw = env.DASHBOARD_SESSION_HOURS?.trim();
  if (raw === undefined || raw === "") return DEFAULT_DASHBOARD_SESSION_HOURS;
  const hours = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !(hours >= 0.1 && hours <= 720)) {
    throw new ConfigError(
      "DASHBOARD_SESSION_HOURS",
      `Invalid configuration: DASHBOARD_SESSION_HOURS=${JSON.stringify(raw)}; expected a number of hours from 0.1 to 720, such as 12.`,
    );
  }
  return hours;
}
