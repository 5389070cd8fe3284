//! Team management, with LiteLLM's request and response bodies: `/team/new`, `GET /team/info`,
//! `/team/update`, `/team/delete`, `GET /team/list`, `/team/member_add`, `/team/member_delete`,
//! `/team/block`, `/team/unblock`. All need the master key. A member is also recorded on the
//! user (`teams`), and a member named only by id or email that has no user yet gets one, as
//! LiteLLM does.

use axum::extract::State;
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use litellm_auth::{
    check_members, KeyColumn, SpendOf, TeamMember, TeamPatch, TeamRecord, UserRecord,
};

use super::extract::{param, Admin, QueryParams};
use super::respond::{
    delete_owners, merged, not_found, patch_error, required, store_error, to_json,
    write_queued_spend, KeyOwner,
};
use crate::auth::KeyDb;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::state::AppState;

pub(super) async fn load_team(db: &KeyDb, team_id: &str) -> Result<TeamRecord, ApiError> {
    db.store
        .team(team_id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| not_found("team_id", format!("Team not found: team_id={team_id}")))
}

async fn save_team(db: &KeyDb, team: &TeamRecord) -> Result<(), ApiError> {
    if !db.store.update_team(team).await.map_err(store_error)? {
        return Err(not_found(
            "team_id",
            format!("Team not found: team_id={}", team.team_id),
        ));
    }
    db.cache.invalidate_team(&team.team_id);
    Ok(())
}

/// The user a member names: by `user_id`, else by `user_email`; created (with a fresh id when
/// only an email is given) when missing. The member's `user_id` is filled in.
async fn member_user(db: &KeyDb, m: &mut TeamMember) -> Result<(UserRecord, bool), ApiError> {
    if let Some(id) = &m.user_id {
        if let Some(u) = db.store.user(id).await.map_err(store_error)? {
            return Ok((u, false));
        }
    } else if let Some(email) = &m.user_email {
        let found = db.store.users_by_email(email).await.map_err(store_error)?;
        if let Some(u) = found.into_iter().next() {
            m.user_id = Some(u.user_id.clone());
            return Ok((u, false));
        }
    }
    let id = m
        .user_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    m.user_id = Some(id.clone());
    let mut u = UserRecord::new(id, Utc::now());
    u.user_email = m.user_email.clone();
    Ok((u, true))
}

/// Adds `team_id` to each member's user (creating users as needed); returns the users.
async fn link_members(
    db: &KeyDb,
    team_id: &str,
    members: &mut [TeamMember],
) -> Result<Vec<UserRecord>, ApiError> {
    let mut users = Vec::new();
    for m in members.iter_mut() {
        let (mut user, new) = member_user(db, m).await?;
        if !user.teams.iter().any(|t| t == team_id) {
            user.teams.push(team_id.to_string());
        }
        user.updated_at = Utc::now();
        if new {
            db.store.insert_user(&user).await.map_err(store_error)?;
        } else {
            db.store.update_user(&user).await.map_err(store_error)?;
        }
        db.cache.invalidate_user(&user.user_id);
        users.push(user);
    }
    Ok(users)
}

/// Adds members to a stored team (used by `/team/member_add` and `/user/new` with `teams`).
pub(super) async fn add_members(
    db: &KeyDb,
    team_id: &str,
    mut members: Vec<TeamMember>,
) -> Result<(TeamRecord, Vec<UserRecord>), ApiError> {
    check_members(&members).map_err(patch_error)?;
    let mut team = load_team(db, team_id).await?;
    for m in &members {
        let dup = team.members_with_roles.iter().any(|e| {
            (m.user_id.is_some() && e.user_id == m.user_id)
                || (m.user_email.is_some() && e.user_email == m.user_email)
        });
        if dup {
            return Err(ApiError::bad_request(
                Some("member"),
                format!(
                    "User is already a member of team_id={team_id}: {}",
                    m.user_id
                        .as_deref()
                        .or(m.user_email.as_deref())
                        .unwrap_or("")
                ),
            ));
        }
    }
    let users = link_members(db, team_id, &mut members).await?;
    team.members_with_roles.extend(members);
    team.updated_at = Utc::now();
    save_team(db, &team).await?;
    Ok((team, users))
}

/// Create a team (LiteLLM's `NewTeamRequest`).
#[utoipa::path(post, path = "/team/new", tag = "teams",
    request_body(content = Object, description = "LiteLLM's NewTeamRequest: team_id (default: a UUID), team_alias, members_with_roles, models, max_budget, budget_duration, tpm_limit, rpm_limit, max_parallel_requests, blocked, metadata"),
    responses((status = 200, description = "The team"), (status = 400, description = "Invalid field or taken team_id")),
    security(("bearer" = [])))]
pub async fn new(
    Admin { db, .. }: Admin,
    JsonBody(patch): JsonBody<TeamPatch>,
) -> Result<Json<Value>, ApiError> {
    let now = Utc::now();
    let id = patch
        .team_id
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let mut team = TeamRecord::new(id, now);
    patch.apply(&mut team, now).map_err(patch_error)?;
    team.spend = patch.limits.spend.unwrap_or(0.0);
    db.store.insert_team(&team).await.map_err(|e| match e {
        litellm_auth::AuthError::Conflict(_) => ApiError::bad_request(
            Some("team_id"),
            format!(
                "Team id = {} already exists. Please use a different team id.",
                team.team_id
            ),
        ),
        other => store_error(other),
    })?;
    let mut members = std::mem::take(&mut team.members_with_roles);
    link_members(&db, &team.team_id, &mut members).await?;
    team.members_with_roles = members;
    save_team(&db, &team).await?;
    Ok(Json(to_json(&team)))
}

/// A team, its keys and its members.
#[utoipa::path(get, path = "/team/info", tag = "teams",
    params(("team_id" = String, Query, description = "The team")),
    responses((status = 200, description = "{\"team_id\", \"team_info\", \"keys\", \"team_memberships\"}"), (status = 404, description = "No such team")),
    security(("bearer" = [])))]
pub async fn info(
    Admin { db, .. }: Admin,
    QueryParams(p): QueryParams,
) -> Result<Json<Value>, ApiError> {
    let team_id = param(&p, "team_id")
        .ok_or_else(|| ApiError::bad_request(Some("team_id"), "team_id is a required parameter"))?;
    let team = load_team(&db, team_id).await?;
    let keys = db
        .store
        .keys_where(KeyColumn::TeamId, &[team_id.to_string()])
        .await
        .map_err(store_error)?;
    Ok(Json(json!({
        "team_id": team.team_id,
        "team_info": to_json(&team),
        "keys": keys.iter().map(to_json).collect::<Vec<_>>(),
        "team_memberships": [],
    })))
}

/// Change a team (LiteLLM's `UpdateTeamRequest`; `team_id` names it).
#[utoipa::path(post, path = "/team/update", tag = "teams",
    request_body(content = Object, description = "team_id plus any /team/new field, and spend; null clears a field"),
    responses((status = 200, description = "{\"team_id\", \"data\": team}"), (status = 404, description = "No such team")),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    Admin { db, .. }: Admin,
    JsonBody(patch): JsonBody<TeamPatch>,
) -> Result<Json<Value>, ApiError> {
    let team_id = required(&patch.team_id, "team_id")?;
    let mut team = load_team(&db, team_id).await?;
    patch.apply(&mut team, Utc::now()).map_err(patch_error)?;
    save_team(&db, &team).await?;
    if let Some(s) = patch.limits.spend {
        write_queued_spend(&state).await;
        db.store
            .set_spend(SpendOf::Team(team_id, s))
            .await
            .map_err(store_error)?;
    }
    let team = load_team(&db, team_id).await?;
    Ok(Json(
        json!({ "team_id": team.team_id, "data": to_json(&team) }),
    ))
}

/// The body of `/team/delete`.
#[derive(Debug, Deserialize)]
pub struct TeamIds {
    #[serde(default)]
    team_ids: Vec<String>,
}

/// Delete teams and their keys.
#[utoipa::path(post, path = "/team/delete", tag = "teams",
    request_body(content = Object, description = "{\"team_ids\": [...]}"),
    responses((status = 200, description = "{\"deleted_teams\": [...]}"), (status = 404, description = "None of the teams exist")),
    security(("bearer" = [])))]
pub async fn delete(
    Admin { db, .. }: Admin,
    JsonBody(req): JsonBody<TeamIds>,
) -> Result<Json<Value>, ApiError> {
    delete_owners(&db, KeyOwner::Team, &req.team_ids).await
}

/// Every team (newest first); `user_id` keeps the teams that user is a member of.
#[utoipa::path(get, path = "/team/list", tag = "teams",
    params(("user_id" = Option<String>, Query, description = "Only this user's teams")),
    responses((status = 200, description = "An array of teams")),
    security(("bearer" = [])))]
pub async fn list(
    Admin { db, .. }: Admin,
    QueryParams(p): QueryParams,
) -> Result<Json<Value>, ApiError> {
    let user = param(&p, "user_id");
    let teams = db.store.list_teams().await.map_err(store_error)?;
    Ok(Json(Value::Array(
        teams
            .iter()
            .filter(|t| {
                user.is_none_or(|u| {
                    t.members_with_roles
                        .iter()
                        .any(|m| m.user_id.as_deref() == Some(u))
                })
            })
            .map(to_json)
            .collect(),
    )))
}

/// One member or a list (`member` of `/team/member_add`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Members {
    One(TeamMember),
    Many(Vec<TeamMember>),
}

/// The body of `/team/member_add`.
#[derive(Debug, Deserialize)]
pub struct MemberAdd {
    #[serde(default)]
    team_id: Option<String>,
    member: Members,
}

/// Add members (`member`: one or a list of `{role, user_id | user_email}`).
#[utoipa::path(post, path = "/team/member_add", tag = "teams",
    request_body(content = Object, description = "{\"team_id\", \"member\": {\"role\": \"user\"|\"admin\", \"user_id\"|\"user_email\"} or a list}"),
    responses((status = 200, description = "The team plus updated_users"), (status = 400, description = "Already a member, or a bad member"), (status = 404, description = "No such team")),
    security(("bearer" = [])))]
pub async fn member_add(
    Admin { db, .. }: Admin,
    JsonBody(req): JsonBody<MemberAdd>,
) -> Result<Json<Value>, ApiError> {
    let team_id = required(&req.team_id, "team_id")?;
    let members = match req.member {
        Members::One(m) => vec![m],
        Members::Many(v) => v,
    };
    let (team, users) = add_members(&db, team_id, members).await?;
    Ok(Json(merged(
        to_json(&team),
        json!({
            "updated_users": users.iter().map(to_json).collect::<Vec<_>>(),
            "updated_team_memberships": [],
        }),
    )))
}

/// The body of `/team/member_delete`.
#[derive(Debug, Deserialize)]
pub struct MemberDelete {
    #[serde(default)]
    team_id: Option<String>,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    user_email: Option<String>,
}

/// Remove a member (by `user_id` or `user_email`).
#[utoipa::path(post, path = "/team/member_delete", tag = "teams",
    request_body(content = Object, description = "{\"team_id\", \"user_id\"} or {\"team_id\", \"user_email\"}"),
    responses((status = 200, description = "The team"), (status = 400, description = "Not a member"), (status = 404, description = "No such team")),
    security(("bearer" = [])))]
pub async fn member_delete(
    Admin { db, .. }: Admin,
    JsonBody(req): JsonBody<MemberDelete>,
) -> Result<Json<Value>, ApiError> {
    let team_id = required(&req.team_id, "team_id")?;
    if req.user_id.is_none() && req.user_email.is_none() {
        return Err(ApiError::bad_request(
            Some("user_id"),
            "Pass the member to remove as user_id or user_email",
        ));
    }
    let mut team = load_team(&db, team_id).await?;
    let is_it = |m: &TeamMember| {
        (req.user_id.is_some() && m.user_id == req.user_id)
            || (req.user_email.is_some() && m.user_email == req.user_email)
    };
    let removed: Vec<TeamMember> = team
        .members_with_roles
        .iter()
        .filter(|m| is_it(m))
        .cloned()
        .collect();
    if removed.is_empty() {
        return Err(ApiError::bad_request(
            Some("user_id"),
            format!("User is not a member of team_id={team_id}"),
        ));
    }
    team.members_with_roles.retain(|m| !is_it(m));
    team.updated_at = Utc::now();
    save_team(&db, &team).await?;
    for id in removed.iter().filter_map(|m| m.user_id.as_deref()) {
        if let Some(mut u) = db.store.user(id).await.map_err(store_error)? {
            u.teams.retain(|t| t != team_id);
            u.updated_at = Utc::now();
            db.store.update_user(&u).await.map_err(store_error)?;
            db.cache.invalidate_user(id);
        }
    }
    Ok(Json(to_json(&team)))
}

/// The body of `/team/block` and `/team/unblock`.
#[derive(Debug, Deserialize)]
pub struct TeamIdBody {
    #[serde(default)]
    team_id: Option<String>,
}

async fn set_blocked(db: KeyDb, req: TeamIdBody, blocked: bool) -> Result<Json<Value>, ApiError> {
    let mut team = load_team(&db, required(&req.team_id, "team_id")?).await?;
    team.blocked = blocked;
    team.updated_at = Utc::now();
    save_team(&db, &team).await?;
    Ok(Json(to_json(&team)))
}

super::respond::block_handlers! {
    tag = "teams",
    body = TeamIdBody,
    request = "{\"team_id\"}",
    responses = ((status = 200, description = "The team"), (status = 404, description = "No such team")),
    /// Block a team: every key of it is refused until `/team/unblock`.
    block = "/team/block",
    /// Unblock a team.
    unblock = "/team/unblock",
}
