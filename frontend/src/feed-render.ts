/**
 * The card's power feed (V2H/V2G) parts, drawn from feed.ts's decisions: the session's energy
 * fed with its credit, the vehicles' battery use, and the power fed back in the plan's chart
 * (below its zero line, in its own colour).
 */

import { css, html, nothing, svg, type TemplateResult } from "lit";
import type { ChartModel } from "./chart";
import { batteryUseLines, sessionFeed } from "./feed";
import { formatPower } from "./format";
import { localize } from "./localize";
import type { SessionData, VehicleData } from "./types";

/** The session's stat tile: the energy fed, its credit and (net cost below 0) what it earned. */
export function feedStat(session: SessionData | null, currency: string, lang: string): TemplateResult | typeof nothing {
  const feed = sessionFeed(session, currency, lang);
  if (!feed) return nothing;
  return html`<div class="stat" data-test="fed">
    <div class="label">${localize(lang, "fed")}</div>
    <div class="value">${feed.energy}</div>
    ${feed.credit ? html`<div class="hint" data-test="feed-credit">${feed.credit}</div>` : nothing}
    ${feed.earned ? html`<div class="hint earned" data-test="feed-earned">${feed.earned}</div>` : nothing}
  </div>`;
}

/** A line per vehicle with a battery use or a state of health to show. */
export function batteryUse(vehicles: VehicleData[], lang: string): TemplateResult | typeof nothing {
  const lines = batteryUseLines(vehicles, lang);
  if (!lines.length) return nothing;
  return html`<div class="battery-use" data-test="battery-use" aria-label=${localize(lang, "battery.title")}>
    ${lines.map((line) => html`<div>${line}</div>`)}
  </div>`;
}

/** The zero line and the bars of power fed back (nothing without power feed). */
export function feedBars(model: ChartModel, lang: string): TemplateResult | typeof nothing {
  if (!model.feedBars.length) return nothing;
  return svg`<line class="zero" x1="0" x2=${model.width} y1=${model.zeroY} y2=${model.zeroY}></line>
    ${model.feedBars.map(
      (b) => svg`<rect class="feed" data-test="feed-bar" x=${b.x} y=${b.y} width=${b.width} height=${b.height}><title>${localize(lang, "legend_feed")}: ${formatPower(b.feed, lang)}</title></rect>`,
    )}`;
}

/** The legend's entry for power fed back (when the chart has some). */
export function feedLegend(model: ChartModel, lang: string): TemplateResult | typeof nothing {
  return model.feedBars.length
    ? html`<span data-test="legend-feed"><i class="swatch feed"></i>${localize(lang, "legend_feed")}</span>`
    : nothing;
}

export const feedStyles = css`
  :host {
    --pev-feed: var(--pev-feed-color, var(--success-color, #43a047));
  }
  .chart .feed,
  .swatch.feed {
    fill: var(--pev-feed);
    background: var(--pev-feed);
  }
  .chart .zero {
    stroke: var(--pev-muted);
    stroke-width: 1;
  }
  .hint.earned {
    color: var(--pev-feed);
  }
  .battery-use {
    margin-top: 8px;
    color: var(--pev-muted);
    font-size: 0.85rem;
  }
`;
