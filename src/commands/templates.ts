// mailroom templates create|update|list|show: a template's subject, HTML and text, written from files.
//
//   mailroom templates create --name NAME (--subject TEXT | --subject-file FILE) --html FILE [--text FILE]
//   mailroom templates update ID|NAME [--name NAME] [--subject TEXT | --subject-file FILE] [--html FILE]
//                             [--text FILE | --no-text]
//   mailroom templates list
//   mailroom templates show ID|NAME [--html | --text]
//
// Every part is checked by the database's template rule (app_public.check_template, the one a campaign is checked
// with when it is scheduled or started) in the transaction that writes it: a template with an error is refused
// (exit 4) with the database's message, and nothing is written.
import type pg from "pg";
import { formatRecord, formatTable, print, readTextFile, refused, usageError, type Command, type OptionValues } from "./command.ts";
import { inTransaction } from "./database.ts";
import { findByIdOrName, type Named } from "./lists.ts";

export const TEMPLATES: Named = { table: "app_public.templates", what: "template", listCommand: "mailroom templates list" };

interface TemplateRow {
  id: string;
  name: string;
  subject: string;
  html_body: string;
  text_body: string;
  created_at: Date;
  updated_at: Date;
}

const PARTS_HELP = `  --subject TEXT        the subject line (fields allowed, e.g. "News for {{ subscriber.name }}")
  --subject-file FILE   the subject from a file (one line; a final line break is ignored)
  --html FILE           the HTML part
  --text FILE           the plain-text part (without one, it is derived from the HTML when sending)

Fields: {{ subscriber.email }}, {{ subscriber.name }}, {{ subscriber.id }}, {{ subscriber.attributes.KEY }},
{{ list.id }}, {{ list.name }}, {{ campaign.id }}, {{ campaign.name }}, {{ unsubscribe_url }};
{{ field }} is HTML-escaped in the HTML part, {{{ field }}} is not (docs/sending.md). A template with an
error (an unknown field, unbalanced braces) is refused with exit 4 and the database's message.`;


/** The columns the options give: name, subject, html_body, text_body (only those given). */
function parts(options: OptionValues): Partial<Pick<TemplateRow, "name" | "subject" | "html_body" | "text_body">> {
  const values: Partial<Pick<TemplateRow, "name" | "subject" | "html_body" | "text_body">> = {};
  if (options.name !== undefined) {
    values.name = (options.name as string).trim();
    if (!values.name) throw usageError("--name cannot be empty");
  }
  if (options.subject !== undefined && options["subject-file"] !== undefined) throw usageError("give --subject TEXT or --subject-file FILE, not both");
  const subject = options["subject-file"] !== undefined
    ? readTextFile("subject-file", options["subject-file"] as string).replace(/\r?\n$/, "")
    : (options.subject as string | undefined);
  if (subject !== undefined) {
    if (/[\r\n]/.test(subject)) throw usageError("the subject must be one line");
    if (!subject.trim()) throw usageError("the subject is empty");
    values.subject = subject.trim();
  }
  if (options.html !== undefined) values.html_body = readTextFile("html", options.html as string);
  if (options.text !== undefined && options["no-text"] === true) throw usageError("give --text FILE or --no-text, not both");
  if (options.text !== undefined) values.text_body = readTextFile("text", options.text as string);
  if (options["no-text"] === true) values.text_body = "";
  return values;
}

/** Checks the parts given with app_public.check_template, then writes them; one transaction. */
async function writeTemplate(client: pg.ClientBase, id: string | undefined, values: ReturnType<typeof parts>): Promise<string> {
  try {
    return await inTransaction(client, async () => {
      for (const [column, part] of [["subject", "subject"], ["html_body", "HTML part"], ["text_body", "text part"]] as const) {
        if (values[column] !== undefined) await client.query("select app_public.check_template($1, $2)", [part, values[column]]);
      }
      const names = Object.keys(values) as (keyof typeof values)[];
      let templateId = id;
      if (templateId === undefined) {
        templateId = (await client.query<{ id: string }>(
          `insert into app_public.templates (${names.join(", ")}) values (${names.map((_, i) => `$${i + 1}`).join(", ")}) returning id`,
          names.map((n) => values[n]))).rows[0]!.id;
      } else {
        await client.query(`update app_public.templates set ${names.map((n, i) => `${n} = $${i + 2}`).join(", ")} where id = $1`,
          [templateId, ...names.map((n) => values[n])]);
      }
      return templateId;
    });
  } catch (error) {
    const { code, hint } = error as { code?: string; hint?: string };
    // A template error: the database's message, and its hint (the fields there are).
    if (code === "22023") throw refused(`${(error as Error).message}${hint ? `\n${hint}` : ""}`);
    throw error;
  }
}

async function loadTemplate(client: pg.ClientBase, id: string) {
  const template = (await client.query<TemplateRow>("select * from app_public.templates where id = $1", [id])).rows[0]!;
  const campaigns = (await client.query<{ id: string; name: string; status: string }>(
    "select id, name, status from app_public.campaigns where template_id = $1 order by id", [id])).rows;
  return { template, campaigns };
}

const lines = (text: string) => (text === "" ? 0 : text.split(/\r?\n/).length - (text.endsWith("\n") ? 1 : 0));

function jsonTemplate(t: TemplateRow, campaigns?: { id: string; name: string; status: string }[]) {
  return {
    id: Number(t.id), name: t.name, subject: t.subject, html: t.html_body, text: t.text_body, createdAt: t.created_at, updatedAt: t.updated_at,
    ...(campaigns ? { campaigns: campaigns.map((c) => ({ id: Number(c.id), name: c.name, status: c.status })) } : {}),
  };
}

function templateRecord(t: TemplateRow, campaigns: { id: string; name: string; status: string }[]): string {
  return formatRecord({
    ...t,
    html: t.html_body === "" ? "none" : `${lines(t.html_body)} lines, ${Buffer.byteLength(t.html_body)} bytes (--html prints it)`,
    text: t.text_body === "" ? "none (derived from the HTML when sending)" : `${lines(t.text_body)} lines, ${Buffer.byteLength(t.text_body)} bytes (--text prints it)`,
    campaigns: campaigns.length === 0 ? "none" : campaigns.map((c) => `${c.id} ${JSON.stringify(c.name)} (${c.status})`).join(", "),
  }, [["id", "id"], ["name", "name"], ["subject", "subject"], ["html", "HTML"], ["text", "text"], ["created_at", "created"], ["updated_at", "updated"], ["campaigns", "campaigns"]]);
}

const create: Command = {
  noun: "templates",
  verb: "create",
  summary: "create a template from files: subject, HTML, text",
  usage: "--name NAME (--subject TEXT | --subject-file FILE) --html FILE [--text FILE]",
  help: `Options:\n  --name NAME           the template's name (commands accept it in place of the id)\n${PARTS_HELP}`,
  options: { name: { type: "string" }, subject: { type: "string" }, "subject-file": { type: "string" }, html: { type: "string" }, text: { type: "string" } },
  async run(context) {
    const o = context.options;
    if (o.name === undefined) throw usageError("--name is required");
    if (o.subject === undefined && o["subject-file"] === undefined) throw usageError("--subject TEXT or --subject-file FILE is required");
    if (o.html === undefined) throw usageError("--html FILE is required: the HTML part");
    const values = parts(o);
    const { template, campaigns } = await context.database(async (client) => loadTemplate(client, await writeTemplate(client, undefined, values)));
    print(context, jsonTemplate(template, campaigns), () => `Template ${template.id} ${JSON.stringify(template.name)} created.\n${templateRecord(template, campaigns)}`);
  },
};

const update: Command = {
  noun: "templates",
  verb: "update",
  summary: "change a template's name, subject, HTML or text (only those given)",
  usage: "ID|NAME [--name NAME] [--subject TEXT | --subject-file FILE] [--html FILE] [--text FILE | --no-text]",
  help: `Options (only those given change):
  --name NAME           a new name
${PARTS_HELP}
  --no-text             remove the plain-text part (it is then derived from the HTML)

Campaigns that use the template without bodies of their own send the new content from their next message on.`,
  options: {
    name: { type: "string" }, subject: { type: "string" }, "subject-file": { type: "string" }, html: { type: "string" },
    text: { type: "string" }, "no-text": { type: "boolean" },
  },
  positionals: [1, 1],
  async run(context) {
    const values = parts(context.options);
    if (Object.keys(values).length === 0) throw usageError("nothing to change: give at least one option (mailroom templates update --help)");
    const { template, campaigns } = await context.database(async (client) => {
      const found = await findByIdOrName<TemplateRow>(client, TEMPLATES, context.positionals[0]!);
      return loadTemplate(client, await writeTemplate(client, found.id, values));
    });
    print(context, jsonTemplate(template, campaigns), () => `Template ${template.id} ${JSON.stringify(template.name)} updated.\n${templateRecord(template, campaigns)}`);
  },
};

const list: Command = {
  noun: "templates",
  verb: "list",
  summary: "the templates: name, subject, when updated",
  usage: "",
  async run(context) {
    const rows = await context.database(async (client) => (await client.query<TemplateRow & { campaigns: number }>(
      `select t.*, (select count(*) from app_public.campaigns as c where c.template_id = t.id)::int as campaigns
       from app_public.templates as t order by t.id`)).rows);
    print(context, rows.map((t) => ({ ...jsonTemplate(t), html: undefined, text: undefined, campaigns: t.campaigns })), () => rows.length === 0
      ? "No templates yet (create one with: mailroom templates create --name NAME --subject TEXT --html FILE)"
      : formatTable(rows as unknown as Record<string, unknown>[], [["id", "id"], ["name", "name"], ["subject", "subject"], ["campaigns", "campaigns"], ["updated_at", "updated"]]));
  },
};

const show: Command = {
  noun: "templates",
  verb: "show",
  summary: "a template: subject, sizes, campaigns using it; --html or --text prints that part as it is",
  usage: "ID|NAME [--html | --text]",
  help: `Options:
  --html   print the HTML part exactly as stored (nothing else), e.g. to a file
  --text   print the plain-text part exactly as stored
--json prints the whole template, both parts included.`,
  options: { html: { type: "boolean" }, text: { type: "boolean" } },
  positionals: [1, 1],
  async run(context) {
    if (context.options.html === true && context.options.text === true) throw usageError("give --html or --text, not both");
    const { template, campaigns } = await context.database(async (client) =>
      loadTemplate(client, (await findByIdOrName<TemplateRow>(client, TEMPLATES, context.positionals[0]!)).id));
    if (!context.json && (context.options.html === true || context.options.text === true)) {
      process.stdout.write(context.options.html === true ? template.html_body : template.text_body);
      return;
    }
    print(context, jsonTemplate(template, campaigns), () => templateRecord(template, campaigns));
  },
};

export const commands: Command[] = [create, update, list, show];
