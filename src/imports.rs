//! The multipart uploads the generated client cannot send (progenitor has no
//! multipart support), written by hand and sent through the same transport.
//! The spec lists them under `x-multipart-operations`. Reached from the
//! client with [`Client::imports`].
//!
//! ```no_run
//! use sentinelone::imports::ImportFile;
//!
//! # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
//! let file = ImportFile::new("exclusions.csv", std::fs::read("exclusions.csv").unwrap_or_default());
//! let answer = client.imports().exclusions(&file, None).await?;
//! println!("{answer}");
//! # Ok(())
//! # }
//! ```

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::vocab::Scope;
use crate::{Client, Error};

/// A file to upload.
#[derive(Debug, Clone)]
pub struct ImportFile {
    /// The file name the console sees.
    pub file_name: String,
    /// The content.
    pub bytes: Vec<u8>,
}

impl ImportFile {
    /// A file from its name and content.
    pub fn new(file_name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        ImportFile {
            file_name: file_name.into(),
            bytes: bytes.into(),
        }
    }

    fn part(&self, what: &str) -> Result<Part, Error> {
        if self.bytes.is_empty() {
            return Err(Error::invalid(format!(
                "{what}: the file {:?} is empty",
                self.file_name
            )));
        }
        Ok(Part::bytes(self.bytes.clone()).file_name(self.file_name.clone()))
    }
}

impl Client {
    async fn upload(
        &self,
        operation: &'static str,
        path: &str,
        form: Form,
    ) -> Result<Value, Error> {
        let request = self
            .request(Method::POST, &format!("{}{path}", crate::API_PREFIX))
            .multipart(form)
            .build()
            .map_err(|e| Error::invalid(format!("{operation}: {e}")))?;
        let response = self.execute(request, operation).await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|e| Error::transport(operation, e))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::decode(operation, &bytes, e))
    }
}

/// The multipart imports, reached from the client with [`Client::imports`].
#[derive(Debug, Clone, Copy)]
pub struct Imports<'c> {
    client: &'c Client,
}

impl Client {
    /// The multipart imports: exclusions, blocklist items, firewall rules,
    /// CSV agent filters.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// use sentinelone::imports::ImportFile;
    /// client.imports().restrictions(&ImportFile::new("blocklist.csv", "..."), None).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn imports(&self) -> Imports<'_> {
        Imports { client: self }
    }
}

impl<'c> Imports<'c> {
    /// Imports exclusions from a CSV file (`POST /exclusions/import`).
    /// `filter` is the optional scope filter as SentinelOne's JSON object.
    ///
    /// ```no_run
    /// use sentinelone::imports::ImportFile;
    ///
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let answer = client.imports().exclusions(&ImportFile::new("exclusions.csv", "..."), None)
    ///     .await?;
    /// println!("{answer}");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn exclusions(
        self,
        file: &ImportFile,
        filter: Option<&Value>,
    ) -> Result<Value, Error> {
        let mut form = Form::new().part("file", file.part("import_exclusions")?);
        if let Some(filter) = filter {
            form = form.text("filter", filter.to_string());
        }
        self.client
            .upload("import_exclusions", "/exclusions/import", form)
            .await
    }

    /// Imports blocklist items from a CSV file (`POST /restrictions/import`).
    ///
    /// ```no_run
    /// use sentinelone::imports::ImportFile;
    ///
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let answer = client.imports().restrictions(&ImportFile::new("blocklist.csv", "..."), None)
    ///     .await?;
    /// println!("{answer}");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn restrictions(
        self,
        file: &ImportFile,
        filter: Option<&Value>,
    ) -> Result<Value, Error> {
        let mut form = Form::new().part("file", file.part("import_restrictions")?);
        if let Some(filter) = filter {
            form = form.text("filter", filter.to_string());
        }
        self.client
            .upload("import_restrictions", "/restrictions/import", form)
            .await
    }

    /// Imports firewall (or network quarantine) rules from a JSON export
    /// (`POST /firewall-control/{category}/import`). The scope must name
    /// at least one account, site or group, or the tenant.
    ///
    /// ```no_run
    /// use sentinelone::imports::ImportFile;
    /// use sentinelone::vocab::Scope;
    ///
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let answer = client
    ///     .imports()
    ///     .firewall_rules("firewall", &ImportFile::new("rules.json", "[]"), &Scope::new().site_ids(["225494730938493804"]))
    ///     .await?;
    /// println!("{answer}");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn firewall_rules(
        self,
        category: &str,
        file: &ImportFile,
        scope: &Scope,
    ) -> Result<Value, Error> {
        let op = "import_firewall_rules_by_category";
        if category.is_empty()
            || !category
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(Error::invalid(format!(
                "{op}: the rule category {category:?} is not a plain name (e.g. firewall, network-quarantine)"
            )));
        }
        if scope.is_empty() {
            return Err(Error::invalid(format!(
                "{op}: the import scope is empty; name accounts, sites, groups or the tenant"
            )));
        }
        let mut form = Form::new().part("file", file.part(op)?);
        for (name, ids) in [
            ("accountIds", &scope.account_ids),
            ("siteIds", &scope.site_ids),
            ("groupIds", &scope.group_ids),
        ] {
            if !ids.is_empty() {
                form = form.text(name, ids.join(","));
            }
        }
        if scope.tenant {
            form = form.text("tenant", "true");
        }
        self.client
            .upload(op, &format!("/firewall-control/{category}/import"), form)
            .await
    }

    /// Uploads a CSV of values to filter agents by
    /// (`POST /filters/csv-filter`): `agent_filter_field` names the agent
    /// field the values match; `exclude_header` skips the first line.
    ///
    /// ```no_run
    /// use sentinelone::imports::ImportFile;
    ///
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let answer = client
    ///     .imports()
    ///     .csv_filter("computerName", true, &ImportFile::new("hosts.csv", "name\nweb-01\n"))
    ///     .await?;
    /// println!("{answer}");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn csv_filter(
        self,
        agent_filter_field: &str,
        exclude_header: bool,
        file: &ImportFile,
    ) -> Result<Value, Error> {
        if agent_filter_field.trim().is_empty() {
            return Err(Error::invalid(
                "upload_csv_filter: agent_filter_field is empty",
            ));
        }
        let form = Form::new()
            .text("agentFilterField", agent_filter_field.to_string())
            .text("excludeHeader", exclude_header.to_string())
            .part("file", file.part("upload_csv_filter")?);
        self.client
            .upload("upload_csv_filter", "/filters/csv-filter", form)
            .await
    }
}
