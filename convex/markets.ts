import { mutation } from "./_generated/server";
import { v } from "convex/values";
import { sameValue } from "./compare";
import { platformSummaryFields } from "./schema";

// Upsert one marketSummaries document per platform (kalshi, polymarket) from summary.json.
// Returns how many platforms were sent and how many documents changed.
export const syncSummary = mutation({
  args: {
    runId: v.string(),
    totalMarkets: v.number(),
    lastUpdated: v.string(),
    nextUpdate: v.union(v.string(), v.null()),
    platforms: v.array(v.object(platformSummaryFields)),
  },
  handler: async (ctx, args) => {
    let written = 0;
    for (const entry of args.platforms) {
      const document = {
        ...entry,
        lastUpdated: args.lastUpdated,
        nextUpdate: args.nextUpdate,
        runId: args.runId,
      };
      const existing = await ctx.db
        .query("marketSummaries")
        .withIndex("by_platform", (q) => q.eq("platform", entry.platform))
        .unique();
      if (existing === null) {
        await ctx.db.insert("marketSummaries", document);
        written += 1;
        continue;
      }
      const { _id, _creationTime, ...stored } = existing;
      if (!sameValue(stored, document)) {
        await ctx.db.replace(_id, document);
        written += 1;
      }
    }
    return { platforms: args.platforms.length, written };
  },
});
