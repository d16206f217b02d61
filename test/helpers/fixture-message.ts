// The message that the Event Grid fixtures (test/fixtures/eventgrid) belong to, as start_campaign
// would have written it: its Message-ID and operation id, set before anything was sent.
import type pg from "pg";

export const FIXTURE_INTERNET_MESSAGE_ID = "<5b1e2f9a-6c7d-4e8f-9a0b-1c2d3e4f5a6b@news.example.com>";
export const FIXTURE_OPERATION_ID = "7f3c1d2e-0a4b-4c5d-8e9f-102132435465";

/** Creates sender, subscriber, campaign and the message; returns the message id. */
export async function createFixtureMessage(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query(
    `with sender as (
       insert into app_public.senders (name, from_address) values ('News', 'news@news.example.com') returning id
     ), subscriber as (
       insert into app_public.subscribers (email) values ('ada@example.org') returning id
     ), campaign as (
       insert into app_public.campaigns (name, sender_id) select 'November', id from sender returning id
     )
     insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient, internet_message_id, operation_id)
     select campaign.id, subscriber.id, sender.id, 'ada@example.org', $1, $2
     from sender, subscriber, campaign
     returning id`,
    [FIXTURE_INTERNET_MESSAGE_ID, FIXTURE_OPERATION_ID],
  );
  return rows[0].id;
}
