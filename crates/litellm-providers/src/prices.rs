//! The model price table: per-token prices (input, output, cache read, cache creation,
//! reasoning) and context windows per model, in the format of LiteLLM's
//! `model_prices_and_context_window.json`, so the same loader reads LiteLLM's own file.
//!
//! - The built-in table (`data/model_prices.json`, embedded in the binary) is our curated
//!   selection of the popular chat and embedding models of every provider we route to; its
//!   `_README` entry records the sources and the date the prices were checked.
//! - Overrides: a JSON file in the same format named by `LITELLM_MODEL_COST_MAP` and/or
//!   `litellm_settings.model_cost_map_path` is merged over it at start-up ([`install`]): an
//!   entry with a new key is added, an entry with a known key replaces the fields it sets. A bad
//!   file is an error naming the file and the problem ([`PriceError`]).
//! - Lookup ([`PriceTable::for_deployment`]), after LiteLLM: `base_model` first when set (it says
//!   "price me as"), then the deployment's model: the exact key (`gemini/gemini-2.5-pro`), the
//!   provider's key for an unprefixed model (`groq/` + `llama-3.1-8b-instant`), the bare model
//!   name (`openai/gpt-4o` -> `gpt-4o`) when the entry's `litellm_provider` is the deployment's
//!   provider (`vertex_ai` matches `vertex_ai-language-models`), and for Bedrock without the
//!   `converse/`/`invoke/` route and the `us.`/`eu.`/`apac.`/`global.`/... inference-profile
//!   prefix. Azure deployment names are the user's own, so Azure is priced only via
//!   `base_model`. Every lookup borrows: no allocation on the request path.
//! - Per-unit prices for the other families: `input_cost_per_query` (rerank),
//!   `output_cost_per_image` and `input_cost_per_pixel`/`output_cost_per_pixel` (image
//!   generation; LiteLLM keys DALL·E entries by size and quality, `hd/1024-x-1024/dall-e-3`, see
//!   [`PriceTable::image_entry`]), billed by [`TokenPrices::unit_cost`].
//! - Cost ([`TokenPrices::cost`]): uncached prompt tokens at the input price, cache reads and
//!   cache writes at their prices (the input price when the model has none), completion tokens
//!   at the output price, of which the reasoning tokens (counted inside `completion_tokens`, as
//!   OpenAI and LiteLLM count them) at `output_cost_per_reasoning_token` when the model has one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, RwLock};

use serde::Serialize;
use serde_json::Value;

use litellm_core::{JsonMap, Units, Usage};

/// The embedded table.
pub const EMBEDDED_TABLE: &str = include_str!("../data/model_prices.json");

/// The environment variable naming a price map file merged over the built-in table.
pub const OVERRIDE_ENV: &str = "LITELLM_MODEL_COST_MAP";

/// Bedrock cross-region inference-profile prefixes (`us.anthropic.claude-...`).
const BEDROCK_REGION_PREFIXES: &[&str] = &[
    "us-gov.", "us.", "eu.", "apac.", "global.", "jp.", "au.", "ca.",
];

/// Bedrock route segments LiteLLM accepts before the model id (`bedrock/converse/...`).
const BEDROCK_ROUTES: &[&str] = &["converse/", "invoke/", "converse_like/"];

/// Writes [`TokenPrices`] from its list of LiteLLM price keys: the struct, [`TokenPrices::KEYS`],
/// the field-wise [`TokenPrices::or`], and [`TokenPrices::set`] (by key), so a new price key is
/// one line.
macro_rules! token_prices {
    ($($(#[$doc:meta])* $field:ident,)*) => {
        /// Prices in USD (per token, and for the other families per query, image or pixel);
        /// `None` where the model has no such price.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
        pub struct TokenPrices {
            $($(#[$doc])*
            #[serde(skip_serializing_if = "Option::is_none")]
            pub $field: Option<f64>,)*
        }

        impl TokenPrices {
            /// The price keys, in LiteLLM's spelling.
            pub const KEYS: &'static [&'static str] = &[$(stringify!($field)),*];

            /// These prices, each missing one taken from `fallback`.
            pub fn or(self, fallback: TokenPrices) -> TokenPrices {
                TokenPrices {
                    $($field: self.$field.or(fallback.$field),)*
                }
            }

            /// Sets the price named `key`; false when `key` is not a price key.
            pub fn set(&mut self, key: &str, value: f64) -> bool {
                match key {
                    $(stringify!($field) => self.$field = Some(value),)*
                    _ => return false,
                }
                true
            }
        }
    };
}

token_prices! {
    input_cost_per_token,
    output_cost_per_token,
    cache_read_input_token_cost,
    cache_creation_input_token_cost,
    output_cost_per_reasoning_token,
    /// Rerank: per query (Cohere's search unit).
    input_cost_per_query,
    /// Image generation: per image.
    output_cost_per_image,
    /// Image generation: per pixel of the images made (LiteLLM prices DALL·E so, by size and
    /// quality).
    input_cost_per_pixel,
    output_cost_per_pixel,
}

impl TokenPrices {
    /// No price set at all.
    pub fn is_empty(&self) -> bool {
        *self == TokenPrices::default()
    }

    /// The price keys found in a free-form map (a deployment's `litellm_params` extras or
    /// `model_info`); values that are not non-negative numbers are ignored.
    pub fn from_map(map: &JsonMap) -> TokenPrices {
        let mut prices = TokenPrices::default();
        for key in Self::KEYS {
            let value = map.get(*key).and_then(Value::as_f64);
            if let Some(v) = value.filter(|v| v.is_finite() && *v >= 0.0) {
                prices.set(key, v);
            }
        }
        prices
    }

    /// USD cost of what a family call bills beyond tokens: queries × `input_cost_per_query`,
    /// images × `output_cost_per_image`, pixels × (`input_cost_per_pixel` +
    /// `output_cost_per_pixel`).
    pub fn unit_cost(&self, units: &Units) -> f64 {
        let price = |p: Option<f64>| p.unwrap_or(0.0);
        units.queries as f64 * price(self.input_cost_per_query)
            + units.images as f64 * price(self.output_cost_per_image)
            + units.pixels as f64
                * (price(self.input_cost_per_pixel) + price(self.output_cost_per_pixel))
    }

    /// Input plus output price per token (for cost-based routing), `None` when either is unset.
    pub fn per_token(&self) -> Option<f64> {
        Some(self.input_cost_per_token? + self.output_cost_per_token?)
    }

    /// USD cost of `usage`. `prompt_tokens` includes cached reads and cache writes and
    /// `completion_tokens` includes reasoning tokens (OpenAI's and LiteLLM's counting), so each
    /// token is billed exactly once: uncached prompt tokens × input, cached reads × cache-read
    /// price, cache writes × cache-creation price (both default to the input price),
    /// non-reasoning completion tokens × output, reasoning tokens × reasoning price (default:
    /// the output price). Embeddings have only prompt tokens.
    pub fn cost(&self, usage: &Usage) -> f64 {
        let input = self.input_cost_per_token.unwrap_or(0.0);
        let output = self.output_cost_per_token.unwrap_or(0.0);
        let cache_read = self.cache_read_input_token_cost.unwrap_or(input);
        let cache_creation = self.cache_creation_input_token_cost.unwrap_or(input);
        let reasoning_price = self.output_cost_per_reasoning_token.unwrap_or(output);

        let prompt = usage.prompt_tokens;
        let cached = usage.cached_tokens().min(prompt);
        let created = usage.cache_creation_tokens().min(prompt - cached);
        let uncached = prompt - cached - created;
        let completion = usage.completion_tokens;
        let reasoning = usage.reasoning_tokens().min(completion);
        let text = completion - reasoning;

        uncached as f64 * input
            + cached as f64 * cache_read
            + created as f64 * cache_creation
            + text as f64 * output
            + reasoning as f64 * reasoning_price
    }
}

/// One entry of the table: prices, context window and the entry's other keys, as LiteLLM's
/// file has them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelPrice {
    #[serde(flatten)]
    pub prices: TokenPrices,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_input_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
    /// LiteLLM's provider name (`openai`, `vertex_ai-language-models`, `bedrock_converse`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub litellm_provider: Option<String>,
    /// `chat`, `embedding`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Every other key of the entry (`supports_vision`, tiered prices, ...), kept as written.
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl ModelPrice {
    /// The context window for pre-call checks: `max_input_tokens` (LiteLLM's legacy
    /// `max_tokens` is often the output limit, so it is not used here).
    pub fn context_window(&self) -> Option<u64> {
        self.max_input_tokens
    }

    /// Whether this entry's `litellm_provider` is `provider`'s (`vertex_ai` matches
    /// `vertex_ai-language-models`, `bedrock` matches `bedrock_converse`, `cohere` matches
    /// `cohere_chat`). An entry without a provider matches every provider.
    fn serves(&self, provider: &str) -> bool {
        match self.litellm_provider.as_deref() {
            None => true,
            Some(p) => provider.is_empty() || p.starts_with(provider),
        }
    }

    /// Field-wise merge: every key `other` sets replaces ours.
    fn merge(&mut self, other: ModelPrice) {
        self.prices = other.prices.or(self.prices);
        self.max_tokens = other.max_tokens.or(self.max_tokens);
        self.max_input_tokens = other.max_input_tokens.or(self.max_input_tokens);
        self.max_output_tokens = other.max_output_tokens.or(self.max_output_tokens);
        if other.litellm_provider.is_some() {
            self.litellm_provider = other.litellm_provider;
        }
        if other.mode.is_some() {
            self.mode = other.mode;
        }
        self.extra.extend(other.extra);
    }
}

/// Why a price map could not be loaded; names the file (and where it was configured).
#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    #[error("cannot read the model cost map {} (from {origin}): {source}", path.display())]
    Read {
        path: PathBuf,
        origin: String,
        source: std::io::Error,
    },
    #[error("invalid model cost map {} (from {origin}): {message}", path.display())]
    Invalid {
        path: PathBuf,
        origin: String,
        message: String,
    },
}

/// A price table: entries in file order and two indexes over their keys.
#[derive(Debug, Clone, Default)]
pub struct PriceTable {
    entries: Vec<(String, ModelPrice)>,
    /// Key -> entry.
    by_key: HashMap<String, usize>,
    /// For keys `prefix/rest`: prefix -> rest -> entry (finds `groq/x` from provider `groq`
    /// and model `x` without building the string).
    by_provider: HashMap<String, HashMap<String, usize>>,
}

impl PriceTable {
    /// The built-in table.
    pub fn builtin() -> PriceTable {
        match parse_map(EMBEDDED_TABLE) {
            Ok(entries) => PriceTable::from_entries(entries),
            // The embedded table is checked by the tests; a broken build must not panic.
            Err(e) => {
                tracing::error!(error = %e, "the built-in price table is invalid");
                PriceTable::default()
            }
        }
    }

    /// A table of these entries (later duplicates merge over earlier ones).
    pub fn from_entries(entries: Vec<(String, ModelPrice)>) -> PriceTable {
        let mut table = PriceTable::default();
        table.merge(entries);
        table
    }

    /// Parses LiteLLM-format JSON text into a table.
    pub fn parse(text: &str) -> Result<PriceTable, String> {
        parse_map(text).map(PriceTable::from_entries)
    }

    /// Merges `entries` over this table: new keys are added, known keys take the fields the
    /// new entry sets.
    pub fn merge(&mut self, entries: Vec<(String, ModelPrice)>) {
        for (key, price) in entries {
            match self.by_key.get(&key) {
                Some(&i) => self.entries[i].1.merge(price),
                None => {
                    let i = self.entries.len();
                    if let Some((prefix, rest)) = key.split_once('/') {
                        self.by_provider
                            .entry(prefix.to_string())
                            .or_default()
                            .insert(rest.to_string(), i);
                    }
                    self.by_key.insert(key.clone(), i);
                    self.entries.push((key, price));
                }
            }
        }
    }

    /// Reads a LiteLLM-format file and merges it over this table; `origin` says where the path
    /// came from (for the error).
    pub fn merge_file(&mut self, path: &Path, origin: &str) -> Result<(), PriceError> {
        let text = std::fs::read_to_string(path).map_err(|source| PriceError::Read {
            path: path.to_path_buf(),
            origin: origin.to_string(),
            source,
        })?;
        let entries = parse_map(&text).map_err(|message| PriceError::Invalid {
            path: path.to_path_buf(),
            origin: origin.to_string(),
            message,
        })?;
        self.merge(entries);
        Ok(())
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, in table order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &ModelPrice)> {
        self.entries.iter().map(|(k, p)| (k.as_str(), p))
    }

    /// The entry with exactly this key.
    pub fn get(&self, key: &str) -> Option<&ModelPrice> {
        self.by_key.get(key).map(|&i| &self.entries[i].1)
    }

    fn get_in(&self, provider: &str, rest: &str) -> Option<&ModelPrice> {
        let i = *self.by_provider.get(provider)?.get(rest)?;
        Some(&self.entries[i].1)
    }

    /// The entry for a deployment of `provider` (`openai`, `groq`, `bedrock`, ...; the resolved
    /// provider name) whose `litellm_params.model` is `model`, priced as `base_model` when one is
    /// set (`litellm_params.base_model` or `model_info.base_model`). See the module docs for
    /// the rules.
    pub fn for_deployment(
        &self,
        provider: &str,
        model: &str,
        base_model: Option<&str>,
    ) -> Option<&ModelPrice> {
        if let Some(base) = base_model.map(str::trim).filter(|b| !b.is_empty()) {
            if let Some(found) = self.lookup(provider, base, false) {
                return Some(found);
            }
        }
        if provider == "azure" {
            return None;
        }
        self.lookup(provider, model, true)
    }

    /// The entry pricing images of `size` (`1024x1024`) and `quality` made by `model` (bare or
    /// provider-prefixed) of `provider`, as LiteLLM keys them: `{quality}/{W}-x-{H}/{model}`,
    /// then `{W}-x-{H}/{model}`, then (DALL·E 3's default quality) `standard/{W}-x-{H}/{model}`,
    /// each with the provider's prefix where the table has one.
    pub fn image_entry(
        &self,
        provider: &str,
        model: &str,
        size: &str,
        quality: Option<&str>,
    ) -> Option<&ModelPrice> {
        let bare = model
            .strip_prefix(provider)
            .and_then(|m| m.strip_prefix('/'))
            .unwrap_or(model);
        let size = size.replace('x', "-x-");
        let sized = format!("{size}/{bare}");
        quality
            .and_then(|q| self.lookup(provider, &format!("{q}/{sized}"), false))
            .or_else(|| self.lookup(provider, &sized, false))
            .or_else(|| self.lookup(provider, &format!("standard/{sized}"), false))
    }

    /// The entry for `model` served by `provider`. With `check_provider`, an entry found by
    /// its bare name must belong to the provider (a `groq/...` model is never priced as
    /// OpenAI's model of the same name).
    pub fn lookup(&self, provider: &str, model: &str, check_provider: bool) -> Option<&ModelPrice> {
        let model = model.trim();
        let fits = |p: &&ModelPrice| !check_provider || p.serves(provider);
        // 1. The provider's key for an unprefixed (or differently prefixed) model, then the
        // exact key.
        if let Some(p) = self.get_in(provider, model) {
            return Some(p);
        }
        if let Some(p) = self.get(model).filter(|p| model.contains('/') || fits(p)) {
            return Some(p);
        }
        // 2. Without the provider prefix: the bare name, or the provider's key for it.
        let (prefix, rest) = match model.split_once('/') {
            Some((prefix, rest)) if prefix == provider || provider.is_empty() => (prefix, rest),
            _ => (provider, model),
        };
        if rest != model {
            if let Some(p) = self
                .get(rest)
                .filter(|p| !check_provider || p.serves(prefix))
            {
                return Some(p);
            }
        }
        // 3. Bedrock: without the route segment and the inference-profile region.
        if prefix == "bedrock" {
            let mut id = rest;
            if let Some(r) = BEDROCK_ROUTES.iter().find_map(|r| id.strip_prefix(r)) {
                id = r;
            }
            if let Some(r) = BEDROCK_REGION_PREFIXES
                .iter()
                .find_map(|r| id.strip_prefix(r))
            {
                id = r;
            }
            if id != rest {
                return self
                    .get(id)
                    .filter(|p| !check_provider || p.serves("bedrock"))
                    .or_else(|| self.get_in("bedrock", id));
            }
        }
        None
    }
}

/// Parses LiteLLM-format JSON: an object of model name -> entry. `sample_spec` (LiteLLM's
/// documentation entry) and keys starting with `_` (our `_README`) are skipped. A price or
/// limit that is not a non-negative number, or a provider/mode that is not a string, is an
/// error naming the entry and the key.
pub fn parse_map(text: &str) -> Result<Vec<(String, ModelPrice)>, String> {
    let root: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let Value::Object(map) = root else {
        return Err("expected a JSON object of model name -> price entry".to_string());
    };
    let mut out = Vec::with_capacity(map.len());
    for (key, value) in map {
        if key == "sample_spec" || key.starts_with('_') {
            continue;
        }
        let Value::Object(fields) = value else {
            return Err(format!("entry {key:?}: expected an object"));
        };
        out.push((key.clone(), parse_entry(&key, fields)?));
    }
    Ok(out)
}

fn parse_entry(key: &str, fields: serde_json::Map<String, Value>) -> Result<ModelPrice, String> {
    let mut entry = ModelPrice::default();
    for (name, value) in fields {
        if value.is_null() {
            continue;
        }
        let bad = |what: &str| format!("entry {key:?}: {name} must be {what}, found {value}");
        let price = || {
            value
                .as_f64()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| bad("a non-negative number"))
        };
        let tokens = || {
            value
                .as_f64()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(|v| v as u64)
                .ok_or_else(|| bad("a non-negative number of tokens"))
        };
        let text = || {
            value
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| bad("a string"))
        };
        match name.as_str() {
            key if TokenPrices::KEYS.contains(&key) => {
                entry.prices.set(key, price()?);
            }
            "max_tokens" => entry.max_tokens = Some(tokens()?),
            "max_input_tokens" => entry.max_input_tokens = Some(tokens()?),
            "max_output_tokens" => entry.max_output_tokens = Some(tokens()?),
            "litellm_provider" => entry.litellm_provider = Some(text()?),
            "mode" => entry.mode = Some(text()?),
            _ => {
                entry.extra.insert(name, value);
            }
        }
    }
    Ok(entry)
}

/// The built-in table, parsed once.
static BUILTIN: LazyLock<PriceTable> = LazyLock::new(PriceTable::builtin);

/// The table [`install`] set, if any.
static INSTALLED: RwLock<Option<&'static PriceTable>> = RwLock::new(None);

/// The table used when [`install`] was never called (SDK use): the built-in table with the
/// `LITELLM_MODEL_COST_MAP` file merged over it; a bad file is logged and ignored.
static DEFAULT: LazyLock<&'static PriceTable> = LazyLock::new(|| {
    match load(
        std::env::var_os(OVERRIDE_ENV).map(PathBuf::from).as_deref(),
        None,
    ) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "ignoring the model cost map");
            &*BUILTIN
        }
    }
});

/// The built-in table with the files merged over it, in order: `env_file` (from
/// `LITELLM_MODEL_COST_MAP`), then `config_file` (`litellm_settings.model_cost_map_path`).
/// Without files this is the shared built-in table; otherwise a new table that lives for the
/// rest of the process.
pub fn load(
    env_file: Option<&Path>,
    config_file: Option<&Path>,
) -> Result<&'static PriceTable, PriceError> {
    let files: Vec<(&Path, &str)> = [
        env_file.map(|p| (p, OVERRIDE_ENV)),
        config_file.map(|p| (p, "litellm_settings.model_cost_map_path")),
    ]
    .into_iter()
    .flatten()
    .filter(|(p, _)| !p.as_os_str().is_empty())
    .collect();
    if files.is_empty() {
        return Ok(&*BUILTIN);
    }
    let mut table = BUILTIN.clone();
    for (path, origin) in files {
        table.merge_file(path, origin)?;
    }
    Ok(Box::leak(Box::new(table)))
}

/// Start-up: builds the table from the built-in one, the `LITELLM_MODEL_COST_MAP` file and
/// `config_file` (`litellm_settings.model_cost_map_path`), and makes it the process's table.
/// A bad file is an error (the proxy refuses to start) naming the file and the problem.
pub fn install(config_file: Option<&Path>) -> Result<&'static PriceTable, PriceError> {
    let env_file = std::env::var_os(OVERRIDE_ENV).map(PathBuf::from);
    let table = load(env_file.as_deref(), config_file)?;
    *INSTALLED.write().unwrap_or_else(|e| e.into_inner()) = Some(table);
    Ok(table)
}

/// The process's price table: the one [`install`] set, else the built-in table with the
/// `LITELLM_MODEL_COST_MAP` file merged over it.
pub fn table() -> &'static PriceTable {
    let installed = *INSTALLED.read().unwrap_or_else(|e| e.into_inner());
    installed.unwrap_or(*DEFAULT)
}
