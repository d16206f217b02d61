// Every `mailroom <noun> <verb>` command, gathered from the modules that define them (a noun's verbs may come
// from several modules: `campaigns preview` lives with the preview, `lists export` with the exports).
import type { Command } from "./command.ts";
import { commands as apiKeys } from "./api-keys.ts";
import { commands as campaigns } from "./campaigns.ts";
import { commands as exports } from "./exports.ts";
import { commands as lists } from "./lists.ts";
import { commands as optIn } from "./opt-in.ts";
import { commands as preview } from "./preview.ts";
import { commands as senders } from "./senders.ts";
import { commands as subscribers } from "./subscribers.ts";
import { commands as templates } from "./templates.ts";

/** The nouns in the order `mailroom --help` shows them, with one line each. */
export const NOUNS: [noun: string, summary: string][] = [
  ["lists", "mailing lists: create, list, show, export; double opt-in confirmations"],
  ["subscribers", "subscribers: import, show, timeline, block, unblock, delete, confirm"],
  ["senders", "ACS senders: create, list, show, update (quotas, send window, connection string)"],
  ["templates", "subject, HTML and text from files: create or update, list, show"],
  ["campaigns", "create, show, preview, test-send, start, schedule, pause, resume, cancel, duplicate, export"],
  ["api-keys", "GraphQL API keys: create, list, revoke"],
];

export const COMMANDS: Command[] = [...lists, ...subscribers, ...senders, ...templates, ...campaigns, ...preview, ...optIn, ...exports, ...apiKeys];

export function commandsOf(noun: string): Command[] {
  return COMMANDS.filter((c) => c.noun === noun);
}
