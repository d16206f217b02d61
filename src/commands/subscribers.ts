// mailroom subscribers import|show|block|unblock|delete (import: src/commands/import-subscribers.ts).
//
//   mailroom subscribers show ID|EMAIL
//   mailroom subscribers block ID|EMAIL        (app_public.blocklist_subscriber: no campaign sends to them)
//   mailroom subscribers unblock ID|EMAIL      (app_public.unblocklist_subscriber)
//   mailroom subscribers delete ID|EMAIL [--yes]
//
// Deleting: a subscriber whom no message was sent to is deleted with their memberships, bounces and
// unsubscriptions (the foreign keys cascade; a test email to them keeps its row without the link). A subscriber
// the ledger has messages for is never deleted: the messages, their events and the campaigns' numbers refer to
// them (the trigger _100_referred_to_by_messages refuses it too); the command refuses and says to block them.
import readline from "node:readline/promises";
import type pg from "pg";
import { commands as importCommands } from "./import-subscribers.ts";
import { formatRecord, formatTable, notFound, print, refused, usageError, type Command } from "./command.ts";

export interface SubscriberRow {
  id: string;
  email: string;
  name: string;
  attributes: Record<string, unknown>;
  status: "enabled" | "blocklisted";
  created_at: Date;
  updated_at: Date;
}

/** A subscriber by id (digits) or email (case-insensitive). Not found: exit 3. */
export async function findSubscriber(client: pg.ClientBase, ref: string): Promise<SubscriberRow> {
  const byId = /^[1-9][0-9]{0,18}$/.test(ref);
  const { rows } = await client.query<SubscriberRow>(
    `select * from app_public.subscribers where ${byId ? "id = $1" : "lower(email) = lower(btrim($1))"}`, [ref]);
  if (rows.length === 0) throw notFound(`no subscriber ${byId ? `with id ${ref}` : `with email ${JSON.stringify(ref)}`}`);
  return rows[0]!;
}

interface Membership {
  list_id: string;
  list_name: string;
  opt_in: "single" | "double";
  status: "unconfirmed" | "confirmed" | "unsubscribed";
  status_changed_at: Date;
  confirmed_at: Date | null;
  unsubscribed_at: Date | null;
  created_at: Date;
}

interface MessageCounts {
  messages: number;
  campaigns: number;
  accepted: number;
  delivered: number;
  bounced: number;
  opened: number;
  clicked: number;
  unsubscribed: number;
  complained: number;
  bounces: number;
  unsubscribes: number;
  test_sends: number;
}

async function messageCounts(client: pg.ClientBase, subscriberId: string): Promise<MessageCounts> {
  const { rows } = await client.query<MessageCounts>(
    `select count(*)::int as messages, count(distinct m.campaign_id)::int as campaigns,
       count(*) filter (where m.send_status = 'accepted')::int as accepted,
       count(*) filter (where m.delivery_status = 'Delivered')::int as delivered,
       count(*) filter (where m.bounce_type is not null)::int as bounced,
       count(*) filter (where m.opens_human > 0)::int as opened,
       count(*) filter (where m.clicks_human > 0)::int as clicked,
       count(*) filter (where m.unsubscribed_at is not null)::int as unsubscribed,
       count(*) filter (where m.complained_at is not null)::int as complained,
       (select count(*) from app_public.bounces as b where b.subscriber_id = $1)::int as bounces,
       (select count(*) from app_public.unsubscribes as u where u.subscriber_id = $1)::int as unsubscribes,
       (select count(*) from app_public.test_sends as t where t.subscriber_id = $1)::int as test_sends
     from app_public.messages as m where m.subscriber_id = $1`, [subscriberId]);
  return rows[0]!;
}

async function memberships(client: pg.ClientBase, subscriberId: string): Promise<Membership[]> {
  return (await client.query<Membership>(
    `select m.list_id, l.name as list_name, l.opt_in, m.status, m.status_changed_at, m.confirmed_at, m.unsubscribed_at, m.created_at
     from app_public.list_memberships as m join app_public.lists as l on l.id = m.list_id
     where m.subscriber_id = $1 order by m.list_id`, [subscriberId])).rows;
}

function jsonSubscriber(s: SubscriberRow) {
  return { id: Number(s.id), email: s.email, name: s.name, status: s.status, attributes: s.attributes, createdAt: s.created_at, updatedAt: s.updated_at };
}

/** Whether a membership receives campaigns now: confirmed (double opt-in) or not unsubscribed (single). */
function receives(subscriber: SubscriberRow, m: Membership): boolean {
  return subscriber.status === "enabled" && (m.opt_in === "double" ? m.status === "confirmed" : m.status !== "unsubscribed");
}

const show: Command = {
  noun: "subscribers",
  verb: "show",
  summary: "a subscriber: status, lists with membership status, counts of messages",
  usage: "ID|EMAIL",
  help: `Counts of messages are of the ledger: messages sent to them (in how many campaigns), accepted by ACS,
delivered, bounced, opened and clicked (by a person: machine opens and clicks are not counted here),
unsubscribed from, complained about; plus their bounces and unsubscriptions.`,
  positionals: [1, 1],
  async run(context) {
    const { subscriber, lists, counts } = await context.database(async (client) => {
      const subscriber = await findSubscriber(client, context.positionals[0]!);
      return { subscriber, lists: await memberships(client, subscriber.id), counts: await messageCounts(client, subscriber.id) };
    });
    const json = {
      ...jsonSubscriber(subscriber),
      lists: lists.map((m) => ({
        id: Number(m.list_id), name: m.list_name, optIn: m.opt_in, status: m.status, receivesCampaigns: receives(subscriber, m),
        statusChangedAt: m.status_changed_at, confirmedAt: m.confirmed_at, unsubscribedAt: m.unsubscribed_at, addedAt: m.created_at,
      })),
      counts: {
        messages: counts.messages, campaigns: counts.campaigns, accepted: counts.accepted, delivered: counts.delivered,
        bounced: counts.bounced, opened: counts.opened, clicked: counts.clicked, unsubscribed: counts.unsubscribed,
        complained: counts.complained, bounces: counts.bounces, unsubscribes: counts.unsubscribes, testSends: counts.test_sends,
      },
    };
    print(context, json, () => [
      formatRecord({ ...subscriber, status: subscriber.status === "blocklisted" ? "blocklisted (no campaign sends to them)" : "enabled" }, [
        ["id", "id"], ["email", "email"], ["name", "name"], ["status", "status"], ["attributes", "attributes"], ["created_at", "created"],
      ]),
      lists.length === 0 ? "lists:       none" : `lists:\n${indent(formatTable(
        lists.map((m) => ({ ...m, opt_in: `${m.opt_in} opt-in`, receives: receives(subscriber, m) ? "yes" : "no" })),
        [["list_id", "id"], ["list_name", "name"], ["opt_in", "opt-in"], ["status", "status"], ["receives", "receives campaigns"], ["status_changed_at", "since"]]))}`,
      `messages:    ${counts.messages} in ${counts.campaigns} campaign${counts.campaigns === 1 ? "" : "s"}: ${counts.accepted} accepted, ${counts.delivered} delivered, ${counts.bounced} bounced, ${counts.opened} opened, ${counts.clicked} clicked, ${counts.unsubscribed} unsubscribed, ${counts.complained} complained`,
      `bounces:     ${counts.bounces}; unsubscriptions: ${counts.unsubscribes}`,
    ].join("\n"));
  },
};

function indent(text: string): string {
  return text.split("\n").map((line) => `  ${line}`).join("\n");
}

function blockCommand(verb: "block" | "unblock"): Command {
  const block = verb === "block";
  return {
    noun: "subscribers",
    verb,
    summary: block ? "blocklist a subscriber: no campaign sends to them" : "take a subscriber off the blocklist",
    usage: "ID|EMAIL",
    help: block
      ? "Messages still queued for them are skipped by the sender. Their memberships stay as they are (unblock restores them)."
      : "Their bounces stay counted: the bounce policy may still stop sends to them.",
    positionals: [1, 1],
    async run(context) {
      const { before, after } = await context.database(async (client) => {
        const before = await findSubscriber(client, context.positionals[0]!);
        const { rows } = await client.query<SubscriberRow>(
          `select * from app_public.${block ? "blocklist_subscriber" : "unblocklist_subscriber"}($1)`, [before.id]);
        return { before, after: rows[0]! };
      });
      print(context, { ...jsonSubscriber(after), changed: before.status !== after.status }, () =>
        before.status === after.status
          ? `Subscriber ${after.id} ${after.email} was ${block ? "blocklisted" : "not blocklisted"} already.`
          : `Subscriber ${after.id} ${after.email} ${block ? "blocklisted: no campaign sends to them" : "taken off the blocklist"}.`);
    },
  };
}

const remove: Command = {
  noun: "subscribers",
  verb: "delete",
  summary: "delete a subscriber whom no message was sent to (else block them)",
  usage: "ID|EMAIL [--yes]",
  help: `Deletes the subscriber with their list memberships, bounces and unsubscriptions; test emails sent to them
keep their row without the link. Asks first on a terminal; --yes does not ask (needed without a terminal).

A subscriber who was sent messages is not deleted (exit 4): the ledger keeps every message with its
recipient, its events and the campaigns' numbers, which would otherwise refer to nobody. To stop all
email to them: mailroom subscribers block ID|EMAIL.

Options:
  --yes    delete without asking`,
  options: { yes: { type: "boolean", short: "y" } },
  positionals: [1, 1],
  async run(context) {
    const yes = context.options.yes === true;
    if (!yes && !(process.stdin.isTTY && process.stderr.isTTY)) {
      throw usageError("subscribers delete asks for confirmation, and there is no terminal to ask on: add --yes");
    }
    const result = await context.database(async (client) => {
      const subscriber = await findSubscriber(client, context.positionals[0]!);
      const counts = await messageCounts(client, subscriber.id);
      if (counts.messages > 0) throw refusedWithLedger(subscriber, counts);
      const lists = await memberships(client, subscriber.id);
      if (!yes && !(await confirm(`Delete subscriber ${subscriber.id} ${subscriber.email}, ${lists.length} list membership${lists.length === 1 ? "" : "s"}, ${counts.bounces} bounce${counts.bounces === 1 ? "" : "s"} and ${counts.unsubscribes} unsubscription${counts.unsubscribes === 1 ? "" : "s"}? [y/N] `))) {
        return undefined;
      }
      // The trigger takes advisory lock 'subscriber deletion' and refuses when a campaign started meanwhile
      // wrote messages for them (23503: a refusal with its message).
      await client.query("delete from app_public.subscribers where id = $1", [subscriber.id]);
      return { subscriber, memberships: lists.length, bounces: counts.bounces, unsubscribes: counts.unsubscribes };
    });
    if (!result) {
      console.error("Nothing deleted.");
      return 1;
    }
    print(context, { id: Number(result.subscriber.id), email: result.subscriber.email, deleted: true,
      memberships: result.memberships, bounces: result.bounces, unsubscribes: result.unsubscribes }, () =>
      `Subscriber ${result.subscriber.id} ${result.subscriber.email} deleted, with ${result.memberships} list membership${result.memberships === 1 ? "" : "s"}.`);
  },
};

function refusedWithLedger(subscriber: SubscriberRow, counts: MessageCounts) {
  return refused(`subscriber ${subscriber.id} ${subscriber.email} cannot be deleted: ${counts.messages} message${counts.messages === 1 ? " was" : "s were"} sent to them `
    + `(${counts.campaigns} campaign${counts.campaigns === 1 ? "" : "s"}), and the ledger keeps every message, its events and the campaigns' numbers. `
    + `To stop all email to them: mailroom subscribers block ${subscriber.id}`);
}

async function confirm(question: string): Promise<boolean> {
  const prompt = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(question)).trim());
  } finally {
    prompt.close();
  }
}

export const commands: Command[] = [...importCommands, show, blockCommand("block"), blockCommand("unblock"), remove];
