import { mutation } from "./_generated/server";
import { v } from "convex/values";
import { sameValue } from "./compare";
import { opportunityFields } from "./schema";

// Upsert one chunk of a run's opportunities by `opportunityId`.
//
// The publisher sends a run in chunks (each under Convex's argument and array limits) and sets
// `final` on the last one. Every upserted document gets status "active" and
// lastSeenRunId = runId. After the final chunk, every active document that this run did not send
// is marked "expired" (never deleted), so the website keeps the history. Sending the same run
// again writes nothing: unchanged documents are skipped.
//
// NOTE: the final chunk patches every stale document in one transaction. More than about 16,000
// opportunities expiring at once would exceed Convex's write limit per mutation.
export const syncOpportunities = mutation({
  args: {
    runId: v.string(),
    detectedAt: v.string(),
    chunkIndex: v.number(),
    chunkCount: v.number(),
    final: v.boolean(),
    opportunities: v.array(v.object(opportunityFields)),
  },
  handler: async (ctx, args) => {
    const counts = { inserted: 0, updated: 0, unchanged: 0, expired: 0 };

    for (const opportunity of args.opportunities) {
      const document = { ...opportunity, status: "active" as const, lastSeenRunId: args.runId };
      const existing = await ctx.db
        .query("arbitrageOpportunities")
        .withIndex("by_opportunityId", (q) => q.eq("opportunityId", opportunity.opportunityId))
        .unique();
      if (existing === null) {
        await ctx.db.insert("arbitrageOpportunities", document);
        counts.inserted += 1;
        continue;
      }
      const { _id, _creationTime, ...stored } = existing;
      if (sameValue(stored, document)) {
        counts.unchanged += 1;
        continue;
      }
      // replace (not patch) so that a returning opportunity loses its expiredInRunId.
      await ctx.db.replace(_id, document);
      counts.updated += 1;
    }

    if (args.final) {
      const active = await ctx.db
        .query("arbitrageOpportunities")
        .withIndex("by_status", (q) => q.eq("status", "active"))
        .collect();
      for (const document of active) {
        if (document.lastSeenRunId !== args.runId) {
          await ctx.db.patch(document._id, { status: "expired", expiredInRunId: args.runId });
          counts.expired += 1;
        }
      }
    }
    return counts;
  },
});
