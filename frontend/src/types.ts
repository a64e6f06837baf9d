/** The dashboard data of `pev_portal/subscribe_dashboard` (see websocket_api.py). */

export interface SessionData {
  session_id: string;
  state: string;
  pause_reason: string | null;
  pev_id: string | null;
  vehicle: string | null;
  vehicle_source: string;
  started_at: string;
  energy_kwh: number;
  charger_kwh: number | null;
  power_kw: number | null;
  cost: number | null;
  currency: string;
  data_quality: string | null;
  /** Power feed, once the session's summary has it: energy fed, its credit, cost - credit. */
  exported_kwh?: number | null;
  export_credit?: number | null;
  net_cost?: number | null;
}

export interface BindingData {
  outcome: string;
  billing_party: string | null;
  program_rate: boolean;
}

/** The premise's utility link: the protocol it speaks and whether it reaches its VTN. */
export interface UtilityData {
  protocol: string;
  connected: boolean;
}

export interface PriceData {
  value: number;
  currency: string;
  period: string;
  until: string;
}

export interface PriceSegment {
  start: string;
  end: string;
  price: number;
  period: string;
}

export interface EventData {
  event_id: string;
  kind: string;
  name?: string | null;
  start: string;
  end: string;
  price?: number | null;
  limit_kw?: number | null;
  level?: string | number | null;
  /** An export-price event's price per kWh fed back (power feed); never in `price`. */
  export_price?: number | null;
  /** An export-limit event's limit on the premise's export (kW); never in `limit_kw`. */
  export_limit_kw?: number | null;
  opt_out_allowed: boolean;
  /** "utility" for the program's events; local events have "local" (or no source). */
  source?: string | null;
  /** The user opted out of this event. */
  opted_out?: boolean;
  /** What opting out costs, when the program declares it (shown before confirming). */
  opt_out_consequence?: string | null;
}

export interface PlanSlot {
  start: string;
  end: string;
  /** Charging power planned (>= 0). */
  power_kw: number;
  price?: number | null;
  /** Power fed back in the slot (>= 0; power feed, absent from older integrations). */
  feed_kw?: number;
}

/** The power feed a plan holds (docs/power-feed.md): AC kWh, money in the program currency. */
export interface PlanFeed {
  energy_kwh: number;
  home_kwh: number;
  export_kwh: number;
  /** Export credit plus the home's import saved. */
  credit: number;
  wear: number;
  cycles: number;
  floor: number;
  gap: number;
}

export interface PlanData {
  slots: PlanSlot[];
  departure?: string | null;
  ready_by?: string | null;
  target_kwh?: number | null;
  cost?: number | null;
  reachable?: boolean;
  /** Why the plan falls short, in English (the card shows `explanations` in its language). */
  reason?: string | null;
  explanations?: PlanExplanation[];
  /** The power feed planned (null or absent: none). */
  feed?: PlanFeed | null;
}

export interface PlanExplanation {
  constraint: string;
  name: string;
  start: string | null;
  end: string | null;
  kwh: number;
  ready_by: string | null;
  ready_without: string | null;
}

export interface CapData {
  start: string;
  end: string;
  limit_kw: number | null;
  name?: string | null;
}

export interface SessionRow {
  session_id: string;
  started_at: string;
  ended_at: string | null;
  pev_id: string | null;
  vehicle: string | null;
  energy_kwh: number | null;
  cost: number | null;
  currency: string;
  data_quality: string | null;
  outcome: string | null;
  billing_party: string | null;
  interval_count: number | null;
  exported_kwh?: number | null;
  export_credit?: number | null;
  net_cost?: number | null;
}

export interface VehicleData {
  pev_id: string;
  name: string;
  relation: string;
  /** The vehicle's power-feed settings (absent from older integrations). */
  power_feed?: { enabled: boolean; floor: number; wear_cost: number; cycles_per_day: number };
  /** The battery's state of health in % (null: no sensor, or it does not read now). */
  state_of_health?: number | null;
  /** The battery's metered use for power feed (absent until the integration meters it). */
  battery_use?: { cycles: number; fed_kwh_month: number; fed_kwh_total: number } | null;
}

export interface ChargerData {
  entry_id: string;
  premise: string;
  charger_id: string;
  name: string;
  device_id: string | null;
  entities: Record<string, string>;
  vehicles: VehicleData[];
  state: string;
  charging_enabled: boolean;
  session: SessionData | null;
  binding: BindingData | null;
  /** The premise's utility link (null: none; absent from older integrations). */
  utility?: UtilityData | null;
  price: PriceData;
  prices: PriceSegment[];
  event: EventData | null;
  next_event: EventData | null;
  plan: PlanData | null;
  caps: CapData[];
  cap_kw: number | null;
  sessions: SessionRow[];
  /** The last events that touched the charger's sessions, newest first (may be absent). */
  event_history?: EventPerformance[];
}

/** What an event achieved on the charger's sessions (settlement). */
export interface EventPerformance {
  event_id: string;
  name: string | null;
  source: string | null;
  kind: string | null;
  start: string;
  end: string;
  final: boolean;
  delivered_kwh: number | null;
  shifted_kwh: number | null;
  compliance: number | null;
  target_met: boolean | null;
  incentive: string | null;
  currency: string | null;
}

export interface DashboardData {
  chargers: ChargerData[];
}

export interface IntervalRow {
  start: string;
  end: string;
  kwh: number;
  quality: string;
  price: number | null;
  cost: number | null;
}

export interface SessionIntervals {
  session_id: string;
  currency: string;
  intervals: IntervalRow[];
}

export interface CardConfig {
  type: string;
  device_id?: string;
  charger_id?: string;
  title?: string;
  show_plan?: boolean;
  show_history?: boolean;
  show_event_form?: boolean;
}

/** The part of Home Assistant's `hass` object the card uses. */
export interface HassEntity {
  entity_id: string;
  state: string;
  attributes: Record<string, any>;
}

export interface HomeAssistant {
  states: Record<string, HassEntity>;
  language?: string;
  locale?: { language: string };
  config: { time_zone: string; currency?: string };
  services?: Record<string, Record<string, unknown>>;
  themes?: { darkMode?: boolean };
  connection: {
    subscribeMessage<T>(
      callback: (message: T) => void,
      message: Record<string, unknown>,
    ): Promise<() => Promise<void> | void>;
  };
  callWS<T>(message: Record<string, unknown>): Promise<T>;
  callService(
    domain: string,
    service: string,
    data?: Record<string, unknown>,
    target?: Record<string, unknown>,
  ): Promise<unknown>;
  fetchWithAuth(path: string, init?: RequestInit): Promise<Response>;
}
