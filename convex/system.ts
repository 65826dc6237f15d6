import { mutation } from "./_generated/server";
import { v } from "convex/values";
import { sameValue } from "./compare";
import { healthStatus, syncMetrics } from "./schema";

// Upsert the systemStatus document of one component (the pipeline sends "etl") from health.json.
// `status` is "degraded" when the run had errors or the publish needed retries.
export const updateSyncStatus = mutation({
  args: {
    component: v.string(),
    runId: v.string(),
    status: healthStatus,
    // ISO 8601 time of the pipeline run that produced the published data.
    lastSync: v.string(),
    metrics: syncMetrics,
    errors: v.array(v.string()),
  },
  handler: async (ctx, args) => {
    const existing = await ctx.db
      .query("systemStatus")
      .withIndex("by_component", (q) => q.eq("component", args.component))
      .unique();
    if (existing === null) {
      await ctx.db.insert("systemStatus", args);
      return { component: args.component, changed: true };
    }
    const { _id, _creationTime, ...stored } = existing;
    if (sameValue(stored, args)) {
      return { component: args.component, changed: false };
    }
    await ctx.db.replace(_id, args);
    return { component: args.component, changed: true };
  },
});
