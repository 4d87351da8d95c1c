// Drives Tally's Sunbird group API through Sunbird's own client library, unchanged, as the portal configures it.
// Input (environment): TALLY_URL, TALLY_CLIENT_KEY (the application's Bearer key), and a JSON TALLY_SCENARIO with
// the users' ids and tokens. Every call's request and response are printed when a step fails.
"use strict";

globalThis.window = globalThis; // the browser adapter reads window.fetch
const assert = require("node:assert/strict");
const { CsModule } = require("@project-sunbird/client-services");

const calls = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init = {}) => {
  const response = await realFetch(url, init);
  const text = await response.clone().text();
  calls.push({ method: init.method || "GET", url: String(url), headers: init.headers, body: init.body,
               status: response.status, response: text });
  return response;
};

const scenario = JSON.parse(process.env.TALLY_SCENARIO);

function init({ userToken, managedUserToken }) {
  const config = {
    core: {
      httpAdapter: "HttpClientBrowserAdapter",
      global: { channelId: "tally", producerId: "tally.test", deviceId: "test-device", sessionId: "test-session" },
      api: { host: process.env.TALLY_URL, authentication: { bearerToken: process.env.TALLY_CLIENT_KEY, userToken,
                                                            managedUserToken } },
    },
    services: {
      groupServiceConfig: {
        apiPath: "/api/group/v1",
        dataApiPath: "/api/data/v1/group",
        updateGroupGuidelinesApiPath: "/api/group/membership/v1",
      },
      formServiceConfig: { apiPath: "/api/data/v1/form" },
    },
  };
  if (CsModule.instance.isInitialised) {
    CsModule.instance.updateConfig(config);
  } else {
    CsModule.instance.init(config);
  }
  return CsModule.instance.groupService;
}

const once = (observable) => new Promise((resolve, reject) => observable.subscribe({ next: resolve, error: reject }));

async function step(name, run) {
  const before = calls.length;
  try {
    const result = await run();
    console.log(`ok ${name}`);
    return result;
  } catch (error) {
    console.error(`FAILED ${name}: ${error && (error.stack || JSON.stringify(error))}`);
    for (const call of calls.slice(before)) console.error(JSON.stringify(call, null, 2));
    process.exitCode = 1;
    throw error;
  }
}

async function main() {
  const { owner, member, other } = scenario;
  let groups = init({ userToken: owner.token });
  const { groupId } = await step("create", () =>
    once(groups.create({ name: "Client group", description: "made by client-services", membershipType: "moderated" })));
  assert.ok(groupId);

  await step("addMembers", async () => {
    const result = await once(groups.addMembers(groupId, { members: [{ userId: member.id, role: "member" }] }));
    assert.equal(result.error, undefined);
  });
  await step("addActivities", () =>
    once(groups.addActivities(groupId, { activities: [{ id: scenario.courseId, type: "Course" }] })));
  await step("getById with members and activities", async () => {
    const group = await once(groups.getById(groupId, { includeMembers: true, includeActivities: true }));
    assert.equal(group.name, "Client group");
    assert.deepEqual(group.members.map((m) => m.userId).sort(), [member.id, owner.id].sort());
    assert.deepEqual(group.activities.map((a) => a.id), [scenario.courseId]);
  });
  await step("updateById", () => once(groups.updateById(groupId, { name: "Renamed", description: "new" })));
  await step("updateMembers", () =>
    once(groups.updateMembers(groupId, { members: [{ userId: member.id, role: "admin" }] })));
  await step("search", async () => {
    const found = await once(groups.search({ filters: { userId: owner.id } }));
    assert.ok(found.some((g) => g.id === groupId && g.name === "Renamed"));
  });
  await step("updateGroupGuidelines", () =>
    once(groups.updateGroupGuidelines({ userId: owner.id, groups: [{ groupId, visited: true }] })));
  await step("getSupportedActivities", async () => {
    const form = await once(groups.getSupportedActivities());
    assert.ok(form.data.fields.some((field) => field.activityType === "Course"));
  });
  await step("getById with groupActivities", async () => {
    const group = await once(groups.getById(groupId, { includeMembers: true, includeActivities: true,
                                                       groupActivities: true }));
    assert.ok(group.activitiesGrouped.some((grouping) => grouping.title === "Course"));
  });
  await step("activityService.getDataAggregation", async () => {
    const agg = await once(groups.activityService.getDataAggregation(groupId, { id: scenario.courseId, type: "Course" }));
    assert.equal(agg.groupId, groupId);
    assert.ok(agg.activity.agg.some((metric) => metric.metric === "enrolmentCount"));
  });
  await step("suspendById", () => once(groups.suspendById(groupId)));
  await step("reactivateById", () => once(groups.reactivateById(groupId)));
  await step("removeActivities", () => once(groups.removeActivities(groupId, { activityIds: [scenario.courseId] })));
  await step("removeMembers", () => once(groups.removeMembers(groupId, { userIds: [member.id] })));

  // A parent acting for the child account they manage: the child becomes the requester.
  groups = init({ userToken: owner.token, managedUserToken: scenario.managed.token });
  const managed = await step("create as a managed user", () =>
    once(groups.create({ name: "Child's group", description: "made for a managed user" })));
  await step("the managed user is the group's creator", async () => {
    const group = await once(groups.getById(managed.groupId, { includeMembers: true }));
    assert.deepEqual(group.members.map((m) => m.userId), [scenario.managed.id]);
    assert.equal(group.createdBy, scenario.managed.id);
  });
  groups = init({ userToken: other.token, managedUserToken: scenario.managed.token });
  await step("a managed token for someone the caller does not manage is refused", async () => {
    await assert.rejects(once(groups.getById(managed.groupId)), (error) => error.response.responseCode === 401
      || error.response.body.params.err === "GS_UNAUTHORIZED");
  });

  groups = init({ userToken: owner.token });
  await step("a bad request is the client's own error", async () => {
    await assert.rejects(once(groups.updateById("not-a-uuid", { name: "" })), (error) =>
      error.response.body.params.errmsg.length > 0);
  });
  await step("deleteById", () => once(groups.deleteById(groupId)));
}

main().catch(() => { process.exitCode = 1; });
