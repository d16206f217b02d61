// mailroom campaigns preview ID [--subscriber ID|EMAIL] [--out DIR]: the campaign rendered exactly as the send task
// would send it (src/sending/preview.ts), headers included, on stdout or as files (DIR/headers.txt, message.txt,
// message.html, message.eml). A template error is a refusal (exit 4) listing every error with its part, line and
// placeholder.
import fs from "node:fs/promises";
import path from "node:path";
import type { Config } from "../config.ts";
import {
  PreviewNotFound,
  PreviewRefused,
  previewCampaign,
  previewEml,
  previewHeaderLines,
  previewSubscriber,
  type CampaignPreview,
  type PreviewSettings,
} from "../sending/preview.ts";
import { TemplateError } from "../sending/template.ts";
import { EXIT, notFound, refused, usageError, type Command } from "./command.ts";
import { parseId } from "./database.ts";

/** The sending settings of this configuration, as a worker or server started with it would use them. */
export function previewSettings(config: Config): PreviewSettings {
  return {
    // As prepareSending (src/sending/process.ts): PUBLIC_URL, else this configuration's server URL.
    publicUrl: config.sending.publicUrl ?? `http://${config.host}:${config.port}`,
    unsubscribeSecret: config.sending.unsubscribeSecret,
    trackingSecrets: config.sending.trackingSecrets,
  };
}

/** The preview as JSON (--json): stable field names for scripts. */
export function previewJson(preview: CampaignPreview) {
  return {
    campaignId: preview.campaignId,
    recipient: preview.recipient,
    sample: preview.sample,
    subject: preview.subject,
    headers: preview.headers,
    html: preview.html,
    text: preview.text,
    engagementTracking: preview.engagementTracking,
    notes: preview.notes,
  };
}

function describeTracking(preview: CampaignPreview): string {
  const { mode, mailroomTracking, azureTrackingDisabled } = preview.engagementTracking;
  const parts = [
    mailroomTracking ? "Mailroom's tracked links, open pixel and honeypot in the content" : "no Mailroom tracking in the content",
    azureTrackingDisabled ? "Azure's engagement tracking disabled" : "Azure's engagement tracking on (as the domain is set up in Azure)",
  ];
  return `${mode} (${parts.join("; ")})`;
}

function describeRecipient(preview: CampaignPreview): string {
  const r = preview.recipient;
  const who = r.subscriberId === null ? "made-up sample person" : `subscriber ${r.subscriberId}`;
  const list = r.listId === null ? "no list" : `list ${r.listId} "${r.listName}"`;
  return `${r.email} (${who}, ${list})`;
}

function previewText(preview: CampaignPreview): string {
  const section = (title: string) => `----- ${title} ${"-".repeat(Math.max(3, 60 - title.length))}`;
  return [
    `Campaign ${preview.campaignId} "${preview.campaignName}" as sent to ${describeRecipient(preview)}`,
    ...preview.notes.map((note) => `Note: ${note}`),
    "",
    section("Headers"),
    previewHeaderLines(preview),
    `(engagement tracking: ${describeTracking(preview)})`,
    "",
    section("Text"),
    preview.text,
    "",
    section("HTML"),
    preview.html ?? "(no HTML part: the message is text only)",
  ].join("\n");
}

/** Writes headers.txt, message.txt, message.html (when there is an HTML part) and message.eml; returns their paths. */
export async function writePreviewFiles(preview: CampaignPreview, dir: string): Promise<string[]> {
  await fs.mkdir(dir, { recursive: true });
  const files: [string, string][] = [
    ["headers.txt", `${previewHeaderLines(preview)}\n`],
    ["message.txt", preview.text],
    ...(preview.html === null ? [] : [["message.html", preview.html] as [string, string]]),
    ["message.eml", previewEml(preview)],
  ];
  const written: string[] = [];
  for (const [name, content] of files) {
    const file = path.join(dir, name);
    await fs.writeFile(file, content);
    written.push(file);
  }
  return written;
}

const preview: Command = {
  noun: "campaigns",
  verb: "preview",
  summary: "render a campaign exactly as it will be sent, headers included",
  usage: "ID [--subscriber ID|EMAIL] [--out DIR]",
  help: [
    "Renders the campaign for one subscriber as the send task would send it: subject, HTML and text after",
    "personalisation, Mailroom's tracked links and open pixel when it tracks mailroom or both, the unsubscribe link,",
    "and the headers of the ACS request. Message-ID and the operation id in the links are the preview's own (each",
    "message gets its own at start): its links unsubscribe and count no one.",
    "",
    "  --subscriber ID|EMAIL   whom to render for (default: the first recipient of its lists, else a made-up person)",
    "  --out DIR               write DIR/headers.txt, message.txt, message.html and message.eml (a MIME message",
    "                          to open in a mail client) and print their paths, instead of printing the message",
    "",
    "A template error exits with 4 and lists every error: part, line and placeholder.",
  ].join("\n"),
  options: { subscriber: { type: "string" }, out: { type: "string" } },
  positionals: [1, 1],
  async run(context) {
    const campaignId = parseId(context.positionals[0], "the campaign");
    const subscriberOption = context.options.subscriber as string | undefined;
    const subscriber = subscriberOption === undefined ? undefined : previewSubscriber(subscriberOption);
    if (subscriberOption !== undefined && !subscriber) {
      throw usageError(`--subscriber must be a subscriber's id or email address (got "${subscriberOption}")`);
    }
    const out = context.options.out as string | undefined;
    let result: CampaignPreview;
    try {
      result = await context.database((client) =>
        previewCampaign((text, values) => client.query(text, values), campaignId, subscriber, previewSettings(context.config)),
      );
    } catch (error) {
      if (error instanceof TemplateError) {
        if (context.json) console.log(JSON.stringify({ campaignId, templateErrors: error.errors }, null, 2));
        throw refused(`campaign ${campaignId} has template errors:\n${error.errors.join("\n")}`);
      }
      if (error instanceof PreviewNotFound) throw notFound(error.message);
      if (error instanceof PreviewRefused) throw refused(error.message);
      throw error;
    }
    if (out !== undefined) {
      const files = await writePreviewFiles(result, out);
      if (context.json) console.log(JSON.stringify({ ...previewJson(result), files }, null, 2));
      else {
        console.log(`Campaign ${result.campaignId} as sent to ${describeRecipient(result)}:`);
        for (const note of result.notes) console.log(`Note: ${note}`);
        for (const file of files) console.log(`  ${file}`);
      }
      return EXIT.done;
    }
    if (context.json) console.log(JSON.stringify(previewJson(result), null, 2));
    else console.log(previewText(result));
    return EXIT.done;
  },
};

export const commands: Command[] = [preview];
