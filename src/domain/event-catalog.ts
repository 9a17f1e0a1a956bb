/**
 * The built-in event catalog: every event type Hookline knows out of the box, the statuses a
 * `message.status` event can carry, which platform events each one stands for, and a sample
 * `data` object per type (used for test requests and for trying request shapes).
 *
 * Pure data and two tiny helpers: no I/O, nothing imported. The facts (event names, field
 * names, statuses, codes) come from the five reference documents in shared/reference; the
 * wording and the sample values are Hookline's own. docs/event-catalog.md is the readable form.
 */

export interface CatalogStatus {
  name: string;
  description: string;
  /** true when no further status change follows for the same message. */
  final: boolean;
  channels: string[];
}

export interface CatalogSource {
  platform: string;
  /** Which reference document and which part of it, e.g. '001 send_status'. */
  reference: string;
  /** The platform's own name for the event (or status). */
  event: string;
  notes?: string;
}

export interface CatalogEventType {
  name: string;
  description: string;
  channels: string[];
  /** The values `data.status` takes; empty for types that carry no status. */
  statuses: CatalogStatus[];
  /** A realistic `data` object (not the envelope) for this type. */
  samplePayload: Record<string, unknown>;
  sources: CatalogSource[];
}

/** The channel names the catalog uses. */
export const catalogChannels = ['sms', 'mms', 'viber', 'whatsapp', 'email', 'ussd', 'call', 'chat'] as const;

const telerivetChannels = ['sms', 'mms', 'ussd', 'call'];
const octapushChannels = ['sms', 'viber'];

const T = 'Telerivet';
const O = 'Octapush';
const MAIL = 'E-mail / WhatsApp platform (002)';
const CHAT = 'Chat / SMS / WhatsApp platform (003)';
const TX = 'Transactional SMS API (004)';

/** Channels in the vocabulary's order, without repeats. */
function channels(...lists: string[][]): string[] {
  const wanted = new Set(lists.flat());
  return catalogChannels.filter((channel) => wanted.has(channel));
}

const messageStatuses: CatalogStatus[] = [
  {
    name: 'queued',
    description: 'Accepted and waiting in the outgoing queue; nothing has gone to the network yet.',
    final: false,
    channels: channels(telerivetChannels),
  },
  {
    name: 'pending',
    description: 'The platform does not know the message\'s state yet; a later update will tell.',
    final: false,
    channels: channels(octapushChannels),
  },
  {
    name: 'scheduled',
    description: 'Held back until the send time it was scheduled for.',
    final: false,
    channels: channels(octapushChannels),
  },
  {
    name: 'submitted',
    description: 'On its way to a carrier or gateway; no delivery news yet.',
    final: false,
    channels: channels(octapushChannels),
  },
  {
    name: 'sent',
    description:
      'Handed to the mobile network, gateway or mail server for delivery. Delivery, failure or engagement updates may follow. ' +
      'For the transactional SMS API this event also carries partCount, the number of SMS segments the text used.',
    final: false,
    channels: channels(telerivetChannels, octapushChannels, ['sms', 'email', 'whatsapp']),
  },
  {
    name: 'failed_queued',
    description: 'A send attempt hit a temporary error and a retry is planned, so sent or failed comes next.',
    final: false,
    channels: channels(telerivetChannels),
  },
  {
    name: 'fallbacksms',
    description: 'The Viber message did not get through and is being sent again as an SMS; the SMS\'s own statuses follow.',
    final: false,
    channels: ['viber'],
  },
  {
    name: 'delivered',
    description:
      'The recipient\'s handset (or WhatsApp account) confirmed receipt. Final for delivery; on channels with tracking, an engagement ' +
      'status (opened, clicked) or a short-link click time may still be reported afterwards.',
    final: true,
    channels: channels(telerivetChannels, ['sms', 'whatsapp']),
  },
  {
    name: 'not_delivered',
    description: 'The delivery report says the message never reached the recipient. errorMessage explains why when the platform knows.',
    final: true,
    channels: channels(telerivetChannels, octapushChannels),
  },
  {
    name: 'undelivered',
    description:
      'The carrier reported the SMS as undelivered; reason carries a code and a label: 1400 hard bounce (the number does not exist or is ' +
      'out of service), 1404 soft bounce (the phone was temporarily out of reach), 1408 carrier violation (the operator\'s filters ' +
      'blocked it as spam or for its content), 1409 unknown delivery (the operator could not confirm delivery either way).',
    final: true,
    channels: ['sms'],
  },
  {
    name: 'bounced',
    description: 'The e-mail or WhatsApp template message was refused on the way to the recipient; errorMessage says why.',
    final: true,
    channels: ['whatsapp', 'email'],
  },
  {
    name: 'failed',
    description: 'Sending failed and will not be retried (for Octapush this is usually an account without enough balance).',
    final: true,
    channels: channels(telerivetChannels, octapushChannels),
  },
  {
    name: 'error',
    description: 'Something went wrong inside the sending process itself.',
    final: true,
    channels: channels(octapushChannels),
  },
  {
    name: 'expired',
    description: 'The message could not be delivered before its validity period ran out.',
    final: true,
    channels: channels(octapushChannels),
  },
  {
    name: 'rejected',
    description: 'Turned away at routing, typically because of a wrong number or a destination network the route cannot reach.',
    final: true,
    channels: channels(octapushChannels),
  },
  {
    name: 'unknown',
    description:
      'The platform received a status it has no name for. (Not to be confused with the transactional SMS API\'s "unknown delivery", ' +
      'which arrives as undelivered with reason code 1409.)',
    final: true,
    channels: channels(octapushChannels),
  },
  {
    name: 'cancelled',
    description: 'A user cancelled the message before it went out (Telerivet\'s spelling; Octapush reports the same outcome as canceled).',
    final: true,
    channels: channels(telerivetChannels),
  },
  {
    name: 'canceled',
    description: 'The send was called off before the message went out (Octapush\'s spelling; Telerivet reports the same outcome as cancelled).',
    final: true,
    channels: channels(octapushChannels),
  },
  {
    name: 'blacklisted',
    description: 'Not sent because the recipient\'s number is on a blacklist.',
    final: true,
    channels: channels(octapushChannels),
  },
  {
    name: 'blocked',
    description: 'The Viber sender ID used for this message is blocked, so it did not reach the recipient.',
    final: true,
    channels: ['viber'],
  },
  {
    name: 'unsubscribed',
    description: 'The recipient used the unsubscribe option, so nothing more goes to them.',
    final: true,
    channels: channels(octapushChannels),
  },
  {
    name: 'seen',
    description: 'The recipient opened the Viber message and saw it.',
    final: true,
    channels: ['viber'],
  },
  {
    name: 'opened',
    description: 'The recipient opened the e-mail. Not final: a click or a complaint about the same e-mail may still follow.',
    final: false,
    channels: ['email'],
  },
  {
    name: 'clicked',
    description:
      'The recipient followed a link in the message; for e-mail, clickUrl holds the link. Final as Octapush flags it; the e-mail ' +
      'platform gives no flag, and an e-mail complaint can still arrive after a click.',
    final: true,
    channels: channels(octapushChannels, ['email']),
  },
  {
    name: 'complained',
    description: 'The recipient reported the e-mail as unwanted (a spam complaint).',
    final: true,
    channels: ['email'],
  },
];

/** Octapush's status table, one row a status: their label, our status. */
const octapushRows: Array<[label: string, status: string, notes?: string]> = [
  ['Sent', 'sent'],
  ['Pending', 'pending'],
  ['Submitted', 'submitted'],
  ['Scheduled', 'scheduled'],
  ['Fallbacksms', 'fallbacksms', 'Viber only.'],
  ['Not Delivered', 'not_delivered'],
  ['Unknown', 'unknown'],
  ['Error', 'error'],
  ['Expired', 'expired'],
  ['Failed', 'failed', 'Octapush uses it for insufficient balance.'],
  ['Rejected', 'rejected'],
  ['Canceled', 'canceled', 'One "l"; Telerivet\'s cancelled is a separate entry.'],
  ['Seen', 'seen', 'Viber only.'],
  ['Clicked', 'clicked'],
  ['Blacklisted', 'blacklisted'],
  ['Unsubscribed', 'unsubscribed'],
  ['Blocked', 'blocked', 'Viber only (the sender ID is blocked).'],
];

const telerivetStatuses = ['queued', 'sent', 'failed', 'failed_queued', 'delivered', 'not_delivered', 'cancelled'];

const messageStatusSources: CatalogSource[] = [
  {
    platform: T,
    reference: '001 send_status',
    event: 'send_status',
    notes:
      `data.status is Telerivet's status code as is (${telerivetStatuses.join(', ')}). A first click on a short link arrives as another ` +
      'send_status with time_clicked set (data.timeClicked); the status itself does not change. A per-message status_url / ' +
      'status_secret maps to the event\'s callbackUrl / callbackSecret.',
  },
  ...octapushRows.map(([label, status, notes]): CatalogSource => ({
    platform: O,
    reference: '000 status table',
    event: label,
    notes: `data.status = ${status}. Octapush configures one webhook per status.${notes ? ` ${notes}` : ''}`,
  })),
  { platform: TX, reference: '004 sent', event: 'sent', notes: 'data.status = sent; partCount gives the SMS segment count.' },
  { platform: TX, reference: '004 delivered', event: 'delivered', notes: 'data.status = delivered.' },
  {
    platform: TX,
    reference: '004 undelivered',
    event: 'undelivered',
    notes:
      'data.status = undelivered with data.reason { code, message }: 1400 Hard Bounce, 1404 Soft Bounce, 1408 Carrier Violation, ' +
      '1409 Unknown Delivery. uniqueArgs from the send request comes back on every event.',
  },
  { platform: MAIL, reference: '002 message sent', event: 'message sent', notes: 'E-mail; data.status = sent.' },
  { platform: MAIL, reference: '002 delivery bounce', event: 'delivery bounce', notes: 'E-mail; data.status = bounced, errorMessage set.' },
  { platform: MAIL, reference: '002 message open', event: 'message open', notes: 'E-mail; data.status = opened.' },
  { platform: MAIL, reference: '002 message clicked', event: 'message clicked', notes: 'E-mail; data.status = clicked, clickUrl set.' },
  {
    platform: MAIL,
    reference: '002 complaint',
    event: 'complaint',
    notes: 'E-mail; data.status = complained. The reference\'s sample spells the event with a Cyrillic "с" as its first letter.',
  },
  { platform: MAIL, reference: '002 whatsapp template sent', event: 'whatsapp template sent', notes: 'WhatsApp; data.status = sent, templateName set.' },
  {
    platform: MAIL,
    reference: '002 whatsapp template delivered',
    event: 'whatsapp template delivered',
    notes: 'WhatsApp; data.status = delivered. The reference prints this example twice.',
  },
  {
    platform: MAIL,
    reference: '002 whatsapp template bounce',
    event: 'whatsapp template bounce',
    notes: 'WhatsApp; data.status = bounced, errorMessage set.',
  },
];

export const eventCatalog: readonly CatalogEventType[] = [
  {
    name: 'message.status',
    description:
      'A message that was sent out changed status: it was queued, handed to the network, delivered, refused, read, clicked and so ' +
      'on. One type covers every channel; data.status names the new status and data.messageId the message, so a receiver can ' +
      'update its own record. Statuses flagged final end the story for that message. Fields a channel does not have are left out: ' +
      'e-mail adds clickUrl on clicks, WhatsApp adds templateName, the transactional SMS API adds uniqueArgs, partCount and, on ' +
      'undelivered, reason.',
    channels: channels(telerivetChannels, octapushChannels, ['email', 'whatsapp']),
    statuses: messageStatuses,
    samplePayload: {
      messageId: 'SM7c41e09b2d58af3360',
      status: 'undelivered',
      messageType: 'sms',
      from: 'NORTHWIND',
      to: '+447700900461',
      content: 'Your parcel NW-20931 arrives tomorrow between 10:00 and 12:00. Reply R to rearrange.',
      errorMessage: 'Handset switched off or out of coverage',
      // Present on undelivered only (the transactional SMS API's reason codes 1400, 1404, 1408, 1409).
      reason: { code: 1404, message: 'Soft Bounce' },
      partCount: 1,
      uniqueArgs: { orderRef: 'NW-20931', campaign: 'delivery-window' },
      timeCreated: 1731938400,
      timeSent: 1731938403,
      projectId: 'PJ2e96d4c01fab',
      phoneId: 'PN91b0c7e35a24',
      recipient: {
        phone: '+447700900461',
        firstName: 'Amara',
        lastName: 'Lindqvist',
        title: 'Ms',
        option1: 'gold-tier',
        option2: 'prefers-evening',
        custom: { customerId: 'CUST-448102' },
      },
    },
    sources: messageStatusSources,
  },
  {
    name: 'message.received',
    description:
      'Someone sent a message to one of your numbers or accounts: an SMS or MMS, a USSD reply, a call, a WhatsApp message or a line ' +
      'in a chat session. data carries the text, who sent it and to which number, any attached media, what the platform knows about ' +
      'the contact, where the contact is in a multi-step conversation (state) and which phone or gateway took the message. ' +
      'chatId is set when the message belongs to a chat session.',
    channels: channels(telerivetChannels, ['whatsapp', 'chat']),
    statuses: [],
    samplePayload: {
      id: 'SM0f8d2a61c9e47b15',
      message_type: 'mms',
      content: 'Hello, can I move my appointment to Friday? Photo of the card attached.',
      from_number: '+447700900358',
      from_number_e164: '+447700900358',
      to_number: '+447700900982',
      time_created: 1731941127,
      time_sent: 1731941125,
      contact_id: 'CT5a93e07d41bc',
      phone_id: 'PN91b0c7e35a24',
      service_id: 'SV3d70f1a8e2c6',
      message_service_id: 'SV3d70f1a8e2c6',
      project_id: 'PJ2e96d4c01fab',
      chatId: 'chat-5f1d0c7a-93b2-4e68-a0d4-2b7e91c35f80',
      media: [
        {
          url: 'https://media.example.net/inbound/2024/11/18/f3c9a1d2.jpg',
          type: 'image/jpeg',
          filename: 'appointment-card.jpg',
          size: 48213,
          caption: 'My appointment card',
        },
      ],
      contact: {
        id: 'CT5a93e07d41bc',
        name: 'Tomasz Okonkwo',
        phone_number: '+447700900358',
        time_created: 1726502611,
        message_count: 14,
        vars: { customer_id: 'C-20871', clinic: 'Harbour Street', language: 'en' },
      },
      state: {
        id: 'reschedule.ask_day',
        time_created: 1731940980,
        vars: { attempts: 1 },
      },
      phone: {
        id: 'PN91b0c7e35a24',
        name: 'Front desk Android',
        phone_number: '+447700900982',
        phone_type: 'android',
        country: 'GB',
        vars: { site: 'harbour-street' },
      },
    },
    sources: [
      {
        platform: T,
        reference: '001 incoming_message',
        event: 'incoming_message',
        notes: 'Field names kept as Telerivet sends them; media[i], contact, state and phone become nested objects.',
      },
      {
        platform: MAIL,
        reference: '002 whatsapp inbox message received',
        event: 'whatsapp inbox message received',
        notes: 'Channel whatsapp; their message, from_number and to_number map to content, from_number and to_number.',
      },
      {
        platform: CHAT,
        reference: '003 chat events',
        event: 'MESSAGE',
        notes: 'Their chatId, contact (a phone number), text and multimedia.url / multimedia.caption map to chatId, contact.phone_number, content and media[0].url / media[0].caption.',
      },
    ],
  },
  {
    name: 'message.metadata',
    description:
      'The bookkeeping around a message changed rather than its delivery: someone starred or labelled it in the web app, or, during ' +
      'a voice call, a key press or a recording link was stored as a variable, or the call finished. data.update_type says which. ' +
      'in_progress tells whether a call is still going on.',
    channels: channels(telerivetChannels),
    statuses: [],
    samplePayload: {
      id: 'CL4b17e8d02f9ac6',
      update_type: 'set_variable',
      message_type: 'call',
      starred: false,
      label_ids: ['LB6e20c93fd1a7', 'LB0d85b4a7e3f2'],
      vars: { menu_choice: '2', voicemail: 'https://media.example.net/calls/CL4b17e8d02f9ac6/voicemail.mp3' },
      in_progress: true,
      from_number: '+447700900982',
      to_number: '+447700900217',
      project_id: 'PJ2e96d4c01fab',
      contact: {
        id: 'CT8c1f6a20b5d9',
        name: 'Priya Ramaswamy',
        phone_number: '+447700900217',
        time_created: 1719823040,
        message_count: 3,
        vars: { customer_id: 'C-19544' },
      },
    },
    sources: [
      {
        platform: T,
        reference: '001 message_metadata',
        event: 'message_metadata',
        notes: 'update_type is star, unstar, add_label, remove_label, set_variable or call_complete. Telerivet sends starred / in_progress as 1 or 0.',
      },
    ],
  },
  {
    name: 'broadcast.sent',
    description:
      'A broadcast (one text to many recipients) was started. The event comes once the broadcast has been set up, by which time ' +
      'the first messages may have gone; estimated_count is a forecast of how many messages it will send, and the real total can differ.',
    channels: ['sms'],
    statuses: [],
    samplePayload: {
      id: 'BC93a1f05c7e2d48',
      content: 'Harbour Street clinic is closed on Monday 25 November. Call 020 7946 0321 for urgent help.',
      recipients_str: 'Patients - Harbour Street, +447700900358, and 2 more',
      recipients: [
        { type: 'group', id: 'GR41d7e90a3bc5', name: 'Patients - Harbour Street' },
        { type: 'phone_number', phone_number: '+447700900358' },
      ],
      estimated_count: 1287,
      route_id: 'PN91b0c7e35a24',
      project_id: 'PJ2e96d4c01fab',
      user_name: 'Helena Marsh',
      user_email: 'helena.marsh@northwind-clinics.example',
    },
    sources: [
      {
        platform: T,
        reference: '001 send_broadcast',
        event: 'send_broadcast',
        notes: 'recipients[i] become an array of objects.',
      },
    ],
  },
  {
    name: 'contact.created',
    description:
      'A new contact was added to the address book, with whatever it is reachable by (e-mail, phone) and the mailing groups it was put in.',
    channels: ['whatsapp', 'email'],
    statuses: [],
    samplePayload: {
      email: 'lucas.ferreira@example.org',
      phone: '+447700900744',
      groups_names: ['Newsletter - weekly', 'Spring offers'],
      groups_ids: [17, 42],
    },
    sources: [
      {
        platform: MAIL,
        reference: '002 contact adding',
        event: 'contact adding',
        notes: 'Telerivet contacts that are added arrive as contact.updated with update_type add or auto_add instead.',
      },
    ],
  },
  {
    name: 'contact.updated',
    description:
      'A contact was added, edited, moved in or out of a group, blocked or unblocked for sending, or deleted. data.update_type ' +
      'names the change (add, auto_add, update, update_field, add_group, remove_group, block_send, unblock_send, delete) and the ' +
      'rest of data is the contact as it now stands, so a mirror of the address book can stay in step.',
    channels: channels(telerivetChannels),
    statuses: [],
    samplePayload: {
      id: 'CT5a93e07d41bc',
      update_type: 'update_field',
      name: 'Tomasz Okonkwo',
      phone_number: '+447700900358',
      send_blocked: false,
      vars: { customer_id: 'C-20871', clinic: 'Harbour Street', language: 'pl' },
      group_ids: ['GR41d7e90a3bc5', 'GR07c2b8e1f4a9'],
      time_created: 1726502611,
      project_id: 'PJ2e96d4c01fab',
    },
    sources: [
      {
        platform: T,
        reference: '001 contact_update',
        event: 'contact_update',
        notes: 'Every update_type, including add, auto_add and delete, stays under this one type. send_blocked is 1 or 0 at Telerivet; vars[...] and group_ids[i] become an object and an array.',
      },
    ],
  },
  {
    name: 'mailing_group.subscribed',
    description: 'An address joined a mailing group, so it will now receive what is sent to that group.',
    channels: ['email'],
    statuses: [],
    samplePayload: {
      email: 'ines.bakker@example.org',
      group_id: 42,
      group_name: 'Spring offers',
      channel: 'email',
    },
    sources: [{ platform: MAIL, reference: '002 mailing group subscribe', event: 'mailing group subscribe' }],
  },
  {
    name: 'mailing_group.unsubscribed',
    description: 'An address left a mailing group, whether through an unsubscribe link or by other means, and should get nothing more from it.',
    channels: ['email'],
    statuses: [],
    samplePayload: {
      email: 'ines.bakker@example.org',
      group_id: 17,
      group_name: 'Newsletter - weekly',
      channel: 'email',
    },
    sources: [{ platform: MAIL, reference: '002 mailing group unsubscribe', event: 'mailing group unsubscribe' }],
  },
  {
    name: 'chat.ended',
    description: 'A chat session was closed, so no further messages are expected under its chatId.',
    channels: ['sms', 'whatsapp', 'chat'],
    statuses: [],
    samplePayload: {
      chatId: 'chat-5f1d0c7a-93b2-4e68-a0d4-2b7e91c35f80',
      contact: { name: 'Tomasz Okonkwo', phone_number: '+447700900358' },
      endedAt: '2024-11-18T15:02:44Z',
    },
    sources: [
      {
        platform: CHAT,
        reference: '003 chat events',
        event: 'END',
        notes: 'Their chatId and contact (a phone number) map to chatId and contact.phone_number; endedAt is Hookline\'s addition.',
      },
    ],
  },
  {
    name: 'webhook.failing',
    description:
      'Operational: one of the project\'s webhooks has failed several times in a row (HOOKLINE_FAILING_AFTER_FAILURES). Sent once per failure streak, through the ordinary delivery path, to the webhooks that subscribe to it.',
    channels: [],
    statuses: [],
    samplePayload: {
      webhookId: '01a2010e-4bb3-710f-bd80-cb16896ebea8',
      name: 'crm',
      url: 'https://crm.example.org/hooks',
      consecutiveFailures: 5,
      failingSince: '2024-11-18T09:12:03.000Z',
      lastSuccessAt: '2024-11-18T09:02:41.000Z',
      lastFailureAt: '2024-11-18T10:42:19.000Z',
    },
    sources: [
      {
        platform: T,
        reference: '001 failure notifications',
        event: 'webhook failure e-mail',
        notes: 'Telerivet tells its users by e-mail when a webhook keeps failing; Hookline tells the project through its own webhooks and the webhookHealthChanged subscription.',
      },
    ],
  },
  {
    name: 'webhook.disabled',
    description:
      'Operational: a webhook failed without a single success for the configured time (five days by default) and Hookline stopped it. Its queued deliveries wait; startWebhook resumes them.',
    channels: [],
    statuses: [],
    samplePayload: {
      webhookId: '01a2010e-4bb3-710f-bd80-cb16896ebea8',
      name: 'crm',
      url: 'https://crm.example.org/hooks',
      consecutiveFailures: 48,
      failingSince: '2024-11-13T09:12:03.000Z',
      lastSuccessAt: '2024-11-13T09:02:41.000Z',
      lastFailureAt: '2024-11-18T08:59:50.000Z',
      disabledAt: '2024-11-18T09:12:10.000Z',
      reason: 'failed without a single success since 2024-11-13T09:12:03.000Z',
    },
    sources: [
      {
        platform: T,
        reference: '001 failure notifications',
        event: 'webhook failure e-mail',
        notes: 'Hookline\'s own operational event; no reference platform disables webhooks by itself.',
      },
    ],
  },
];

export function findCatalogEventType(name: string): CatalogEventType | undefined {
  return eventCatalog.find((type) => type.name === name);
}
