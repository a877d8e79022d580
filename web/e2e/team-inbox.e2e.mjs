// Browser test of the team pages and the inbox, as a first-time lead and a new agent click them:
// the owner invites a teammate by link; the teammate opens the link in another browser, joins
// and lands in the inbox; customers (over the API) wait there; the agent searches, sees what is
// unread, moves with the keyboard, inserts a canned reply filled in for the customer and an
// AI-drafted reply from the knowledge base, and sends; the owner makes them admin, then
// deactivates them: their conversation goes back to the queue and their browser is signed out.
// The lead writes the canned reply in Settings → Canned replies.
//
// Same requirements as builder.e2e.mjs: Debian's chromium, a built baton; fails in CI without
// chromium.

import { join } from 'node:path';
import { call, check, fail, launch, screenshotAll, screenshots, shutDown, signIn, watch } from './lib.mjs';

const NOOR = { name: 'Noor Haddad', email: 'noor@example.com', password: 'correct horse battery 7' };

/** A flow that asks name and email and hands over to the billing team. */
const HANDOVER_FLOW = {
  format: 1,
  name: 'Help desk (e2e)',
  nodes: [
    { id: 'start', type: 'trigger' },
    { id: 'ask_name', type: 'collect_input', text: 'Your name?', variable: 'name', input: 'name' },
    { id: 'ask_email', type: 'collect_input', text: 'Your email?', variable: 'email', input: 'email' },
    { id: 'human', type: 'handover', team: 'billing', context: ['name', 'email'], reason: '{{ name }} needs a person' },
    { id: 'bye', type: 'end' },
  ],
  edges: [
    { from: 'start', port: 'next', to: 'ask_name' },
    { from: 'ask_name', port: 'next', to: 'ask_email' },
    { from: 'ask_name', port: 'invalid', to: 'bye' },
    { from: 'ask_email', port: 'next', to: 'human' },
    { from: 'ask_email', port: 'invalid', to: 'bye' },
    { from: 'human', port: 'handed_back', to: 'bye' },
    { from: 'human', port: 'resolved', to: 'bye' },
    { from: 'human', port: 'off_hours', to: 'bye' },
    { from: 'human', port: 'no_agent', to: 'bye' },
    { from: 'human', port: 'timeout', to: 'bye' },
    { from: 'human', port: 'cancelled', to: 'bye' },
  ],
};

/** A customer over the API: starts on the flow, gives a name and an email, then says `text`. */
async function customer(url, widgetKey, flowId, name, email, text) {
  const start = await fetch(`${url}/api/v1/widget/conversations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ widget_key: widgetKey, flow_id: flowId }),
  }).then((r) => r.json());
  const id = start.conversation.id;
  const say = async (t, n) => {
    const r = await fetch(`${url}/api/v1/conversations/${id}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${start.token}` },
      body: JSON.stringify({ client_id: `m-${n}`, text: t }),
    });
    check(r.ok, `a customer message is taken: ${r.status}`);
  };
  await say(name, 1);
  await say(email, 2);
  await say(text, 3);
  return id;
}

async function main() {
  const run = await launch('e2e (team and inbox)');
  if (!run) return;
  const { server, browser } = run;
  const problems = [];
  try {
    // ---- the owner invites a teammate --------------------------------------------------------
    const ownerCtx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const owner = await ownerCtx.newPage();
    watch(owner, problems, 'owner');
    await signIn(owner, server.url, server.owner.email, server.owner.password);
    await owner.goto(`${server.url}/app/settings/members`);
    const invite = owner.getByTestId('invite-member');
    await invite.getByLabel('Email').fill(NOOR.email);
    await invite.getByLabel('Role').selectOption('agent');
    await invite.getByRole('button', { name: 'Create invitation link' }).click();
    const link = await owner.getByLabel('Invitation link').inputValue();
    check(link.startsWith(`${server.url}/app/invite/`), `an invitation link on this server: ${link}`);
    await owner.getByTestId('invites').getByRole('cell', { name: NOOR.email }).waitFor();

    // The workspace: knowledge, a canned reply, Noor's team and a live flow that hands over.
    await owner.goto(`${server.url}/app/settings/canned`);
    const cannedPage = owner.getByTestId('canned-replies');
    await cannedPage.getByRole('button', { name: '+ Canned reply' }).click();
    await cannedPage.getByLabel('Title').fill('Greeting');
    await cannedPage.getByLabel('Text').fill('Hi {{ name | first_word }}, {{ agent.name | first_word }} here. Looking into it now.');
    await cannedPage.getByRole('button', { name: 'Save' }).click();
    await owner.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const ws = (await call(owner, 'GET', '/api/v1/workspace')).body;
    check(ws.settings.canned_replies.length === 1, `the canned reply is saved: ${JSON.stringify(ws.settings.canned_replies)}`);
    const article = await call(owner, 'PUT', '/api/v1/kb/articles/refund-timing', {
      collection: 'help',
      title: 'Refund timing',
      markdown: '# Refund timing\n\nRefunds are paid back to the original card within 5 business days after we receive the returned item.',
    });
    check(article.status === 200, `article saved: ${JSON.stringify(article.body)}`);
    const created = await call(owner, 'POST', '/api/v1/flows', { document: HANDOVER_FLOW });
    check(created.status === 201, `flow created: ${JSON.stringify(created.body)}`);
    const flowId = created.body.id;
    check((await call(owner, 'POST', `/api/v1/flows/${flowId}/publish`, {})).status === 201, 'published');
    check((await call(owner, 'PUT', `/api/v1/flows/${flowId}/live`, { live: true })).status === 200, 'live');

    // ---- Noor opens the link in her own browser, joins, and lands in the inbox ---------------
    const noorCtx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const noor = await noorCtx.newPage();
    watch(noor, problems, 'noor');
    await noor.goto(link);
    await noor.getByRole('heading', { name: /^Join / }).waitFor();
    check((await noor.getByText(NOOR.email).count()) > 0, 'the invitation names the invited email');
    await noor.getByLabel('Your name').fill(NOOR.name);
    await noor.getByLabel('Choose a password').fill(NOOR.password);
    await noor.getByRole('button', { name: 'Join and sign in' }).click();
    await noor.waitForURL(/\/app\/inbox$/);
    await noor.getByTestId('inbox-list').waitFor();
    // The link works once.
    const again = await fetch(`${link.replace('/app/invite/', '/api/v1/invites/')}`);
    check(again.status === 410, `a used link answers 410: ${again.status}`);

    // The owner sees her, puts her in billing, and she is online.
    await owner.goto(`${server.url}/app/settings/members`);
    const row = owner.getByTestId('members').getByRole('row').filter({ hasText: NOOR.email });
    await row.waitFor();
    const members = (await call(owner, 'GET', '/api/v1/members')).body.items;
    const noorId = members.find((m) => m.email === NOOR.email).id;
    const teams = (await call(owner, 'GET', '/api/v1/teams')).body.items;
    const billing = teams.find((t) => t.slug === 'billing');
    const put = await call(owner, 'PUT', `/api/v1/teams/${billing.id}`, { name: billing.name, slug: 'billing', members: [...billing.members, noorId] });
    check(put.status === 200, `Noor joins billing: ${JSON.stringify(put.body)}`);

    // ---- customers wait; Noor searches, reads, uses the keyboard ----------------------------
    const ana = await customer(server.url, ws.widget_key, flowId, 'Ana López', 'ana@example.com', 'my parcel never arrived');
    const ben = await customer(server.url, ws.widget_key, flowId, 'Ben Okafor', 'ben@example.com', 'when do I get my refund back on my card?');
    const cy = await customer(server.url, ws.widget_key, flowId, 'Cy Chen', 'cy@example.com', 'where is my PARCEL');
    const rowOf = (id) => noor.locator(`[data-conversation="${id}"]`);
    await rowOf(cy).waitFor({ timeout: 40_000 });
    check((await rowOf(ana).getAttribute('data-unread')) === 'true', 'a new conversation is unread');
    await noor.getByTestId('inbox-total').filter({ hasText: '3 conversations' }).waitFor();

    await noor.keyboard.press('/');
    check(await noor.getByLabel('Search conversations').evaluate((el) => el === document.activeElement), '/ focuses the search');
    await noor.keyboard.type('parcel');
    await noor.getByTestId('inbox-total').filter({ hasText: '2 conversations' }).waitFor();
    check((await rowOf(ben).count()) === 0, 'the search leaves out what does not match');
    await noor.getByLabel('Search conversations').fill('okafor');
    await rowOf(ben).waitFor();
    await noor.getByTestId('inbox-total').filter({ hasText: '1 conversation' }).waitFor();
    await noor.getByLabel('Search conversations').fill('');
    await noor.getByTestId('inbox-total').filter({ hasText: '3 conversations' }).waitFor();

    // j opens the first conversation (read), j again the next.
    await noor.evaluate(() => (document.activeElement instanceof HTMLElement ? document.activeElement.blur() : undefined));
    await noor.keyboard.press('j');
    await noor.waitForURL(new RegExp(`/app/inbox/${ana}$`));
    await noor.locator(`[data-conversation="${ana}"][data-unread=false]`).waitFor();
    await noor.keyboard.press('j');
    await noor.waitForURL(new RegExp(`/app/inbox/${ben}$`));
    await noor.keyboard.press('?');
    await noor.getByTestId('shortcuts').waitFor();
    await noor.keyboard.press('Escape');
    await noor.getByTestId('shortcuts').waitFor({ state: 'detached' });

    // A canned reply, filled in for Ben and Noor; then an AI draft from the knowledge base.
    await noor.getByTestId('conversation').waitFor();
    await noor.getByLabel('Insert a canned reply').selectOption({ label: 'Greeting' });
    const reply = noor.getByLabel('Reply to the customer');
    check((await reply.inputValue()) === 'Hi Ben, Noor here. Looking into it now.', `the canned reply is filled in: ${await reply.inputValue()}`);
    await noor.getByRole('button', { name: 'Draft with AI' }).click();
    await noor.getByTestId('draft-note').filter({ hasText: 'Refund timing' }).waitFor();
    const drafted = await reply.inputValue();
    check(drafted.startsWith('Hi Ben, Noor here.') && drafted.includes('5 business days'), `the draft is added for editing: ${drafted}`);
    await reply.fill(`${drafted}\nAnything else?`);
    await noor.getByRole('button', { name: 'Send reply' }).click();
    await noor.locator('[data-testid=transcript] [data-role=agent]').filter({ hasText: 'Anything else?' }).waitFor();
    await noor.screenshot({ path: join(screenshots, 'inbox-drafted-reply.png'), fullPage: true });
    const sent = (await call(noor, 'GET', `/api/v1/inbox/conversations/${ben}`)).body;
    check(sent.conversation.assignee === noorId, 'replying claimed it');

    // ---- the owner changes Noor's role, then deactivates her --------------------------------
    await owner.reload();
    await owner.getByLabel(`Role of ${NOOR.name}`).selectOption('admin');
    await owner.getByRole('status').filter({ hasText: `${NOOR.name} is now admin.` }).waitFor();
    await row.getByRole('button', { name: 'Deactivate' }).click();
    await row.getByRole('button', { name: 'Yes, deactivate' }).click();
    await owner.getByRole('status').filter({ hasText: 'is deactivated' }).waitFor();
    await row.getByRole('cell', { name: 'Deactivated' }).waitFor();
    await owner.screenshot({ path: join(screenshots, 'members.png'), fullPage: true });
    const back = (await call(owner, 'GET', `/api/v1/inbox/conversations/${ben}`)).body;
    check(back.conversation.status === 'queued' && back.conversation.assignee === null, `Ben's conversation is queued again: ${back.conversation.status}`);
    // Noor's browser is signed out at her next step.
    await noor.reload();
    await noor.waitForURL(/\/app\/login$/);
    await noor.getByLabel('Email').fill(NOOR.email);
    await noor.getByLabel('Password').fill(NOOR.password);
    await noor.getByRole('button', { name: 'Sign in' }).click();
    await noor.getByRole('alert').filter({ hasText: 'deactivated' }).waitFor();
    // A deactivated member's failed sign-in and 401s are expected console errors.
    problems.splice(0, problems.length, ...problems.filter((p) => !p.startsWith('noor: console error')));

    if (problems.length) throw new Error(`the page reported problems:\n${problems.join('\n')}`);
    console.log('e2e (team and inbox): passed');
  } catch (e) {
    fail(e instanceof Error ? e.stack ?? e.message : String(e));
    if (problems.length) console.error(problems.join('\n'));
    await screenshotAll(browser, 'team-inbox-failure');
  } finally {
    await shutDown(run);
  }
}

main().catch((e) => fail(e instanceof Error ? e.stack ?? e.message : String(e)));
