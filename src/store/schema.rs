// One portable schema for both backends: TEXT ids, UTC `Timestamp`s, no backend-only types.
// Kept in step with migrations/{sqlite,postgres} by the schema test in tests/it/schema.rs.

diesel::table! {
    departments (code) {
        code -> Text,
        name -> Text,
        email -> Text,
        head_email -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        password_hash -> Nullable<Text>,
        role -> Text,
        department_code -> Nullable<Text>,
        email -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    tickets (id) {
        id -> Text,
        number -> Text,
        state -> Text,
        outcome -> Nullable<Text>,
        channel -> Text,
        category -> Text,
        urgency -> Text,
        enterprise_name -> Text,
        credit_code -> Text,
        contact_name -> Text,
        contact_phone -> Text,
        subject -> Text,
        description -> Text,
        lead_department -> Nullable<Text>,
        pending_extension -> Nullable<Text>,
        merged_into -> Nullable<Text>,
        reopen_count -> Integer,
        version -> BigInt,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        due_at -> Nullable<Timestamp>,
        escalation_level -> Integer,
        first_department -> Nullable<Text>,
        replied_at -> Nullable<Timestamp>,
        replied_by -> Nullable<Text>,
        duplicate_of -> Nullable<Text>,
    }
}

diesel::table! {
    ticket_departments (ticket_id, department_code) {
        ticket_id -> Text,
        department_code -> Text,
    }
}

diesel::table! {
    ticket_events (id) {
        id -> Text,
        ticket_id -> Text,
        seq -> BigInt,
        action -> Text,
        actor_kind -> Text,
        actor_username -> Nullable<Text>,
        actor_role -> Nullable<Text>,
        actor_department -> Nullable<Text>,
        from_state -> Nullable<Text>,
        to_state -> Text,
        level -> Nullable<Integer>,
        payload -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    ticket_counters (year) {
        year -> Integer,
        last_value -> BigInt,
    }
}

diesel::table! {
    idempotency_keys (username, key) {
        username -> Text,
        key -> Text,
        request_hash -> Text,
        response_status -> Integer,
        response_body -> Text,
        ticket_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    calendar_years (year) {
        year -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    calendar_days (day) {
        day -> Text,
        year -> Integer,
        kind -> Text,
    }
}

diesel::table! {
    timers (id) {
        id -> Text,
        ticket_id -> Text,
        kind -> Text,
        started_at -> Timestamp,
        due_at -> Timestamp,
        warn_at -> Timestamp,
        warned_at -> Nullable<Timestamp>,
        level -> Integer,
        next_fire_at -> Nullable<Timestamp>,
        last_fired_at -> Nullable<Timestamp>,
        ended_at -> Nullable<Timestamp>,
        outcome -> Nullable<Text>,
        duration -> Nullable<Text>,
        extended_days -> Integer,
        beyond_calendar -> Bool,
        department -> Nullable<Text>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        ticket_id -> Nullable<Text>,
        event_id -> Nullable<Text>,
        template -> Text,
        recipients -> Text,
        data -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        message_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    leases (name) {
        name -> Text,
        holder -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        username -> Text,
        role -> Text,
        department_code -> Nullable<Text>,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    kpi_counts (day, unit, category, channel) {
        day -> Text,
        unit -> Text,
        category -> Text,
        channel -> Text,
        received -> BigInt,
        cases -> BigInt,
        replied -> BigInt,
        replied_3m -> BigInt,
        sign_ended -> BigInt,
        sign_met -> BigInt,
        handle_due -> BigInt,
        handle_ended -> BigInt,
        handle_met -> BigInt,
        interim_due -> BigInt,
        interim_ended -> BigInt,
        interim_met -> BigInt,
        feedback -> BigInt,
        satisfied -> BigInt,
        dissatisfied -> BigInt,
        returns -> BigInt,
        dispatched -> BigInt,
        supervised -> BigInt,
        supervised_automatic -> BigInt,
        extensions -> BigInt,
        extensions_approved -> BigInt,
        extensions_denied -> BigInt,
        handled -> BigInt,
        handling_minutes -> BigInt,
        answered -> BigInt,
    }
}

diesel::table! {
    kpi_deltas (day, unit, category, channel) {
        day -> Text,
        unit -> Text,
        category -> Text,
        channel -> Text,
        received -> BigInt,
        cases -> BigInt,
        replied -> BigInt,
        replied_3m -> BigInt,
        sign_ended -> BigInt,
        sign_met -> BigInt,
        handle_due -> BigInt,
        handle_ended -> BigInt,
        handle_met -> BigInt,
        interim_due -> BigInt,
        interim_ended -> BigInt,
        interim_met -> BigInt,
        feedback -> BigInt,
        satisfied -> BigInt,
        dissatisfied -> BigInt,
        returns -> BigInt,
        dispatched -> BigInt,
        supervised -> BigInt,
        supervised_automatic -> BigInt,
        extensions -> BigInt,
        extensions_approved -> BigInt,
        extensions_denied -> BigInt,
        handled -> BigInt,
        handling_minutes -> BigInt,
        answered -> BigInt,
    }
}

diesel::table! {
    kpi_rebuilds (name) {
        name -> Text,
        built_at -> Timestamp,
    }
}

diesel::table! {
    knowledge_articles (id) {
        id -> Text,
        title -> Text,
        body -> Text,
        keywords -> Text,
        department -> Text,
        doc_number -> Nullable<Text>,
        valid_from -> Nullable<Text>,
        valid_to -> Nullable<Text>,
        state -> Text,
        visibility -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        created_by -> Text,
        updated_at -> Timestamp,
        updated_by -> Text,
        search_text -> Text,
    }
}

diesel::table! {
    knowledge_versions (article_id, version) {
        article_id -> Text,
        version -> BigInt,
        title -> Text,
        body -> Text,
        keywords -> Text,
        department -> Text,
        doc_number -> Nullable<Text>,
        valid_from -> Nullable<Text>,
        valid_to -> Nullable<Text>,
        state -> Text,
        visibility -> Text,
        changed -> Text,
        at -> Timestamp,
        by -> Text,
    }
}

diesel::joinable!(ticket_events -> tickets (ticket_id));
diesel::joinable!(timers -> tickets (ticket_id));
diesel::joinable!(ticket_departments -> tickets (ticket_id));
diesel::joinable!(knowledge_versions -> knowledge_articles (article_id));

diesel::allow_tables_to_appear_in_same_query!(
    departments,
    users,
    tickets,
    ticket_departments,
    ticket_events,
    ticket_counters,
    idempotency_keys,
    calendar_years,
    calendar_days,
    timers,
    outbox,
    leases,
    sessions,
    kpi_counts,
    kpi_deltas,
    kpi_rebuilds,
    knowledge_articles,
    knowledge_versions,
);

diesel::table! {
    enterprises (credit_code) {
        credit_code -> Text,
        name -> Text,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
        ticket_count -> BigInt,
    }
}

diesel::table! {
    index_backfills (name) {
        name -> Text,
    }
}
