//! Counts every GraphQL operation by name and outcome, including those refused at
//! parsing or validation (the name is taken from the executed operation when there is
//! one, else from the request's `operationName`).

use std::sync::{Arc, Mutex};

use async_graphql::Response;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextRequest,
};

use crate::telemetry::Metrics;

/// Installs [`OperationMetricsExtension`] on each request.
pub struct OperationMetrics(pub Arc<Metrics>);

impl ExtensionFactory for OperationMetrics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OperationMetricsExtension {
            metrics: Arc::clone(&self.0),
            operation: Mutex::new(None),
        })
    }
}

/// Per-request state: the name of the operation being executed.
struct OperationMetricsExtension {
    metrics: Arc<Metrics>,
    operation: Mutex<Option<String>>,
}

#[async_trait::async_trait]
impl Extension for OperationMetricsExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let response = next.run(ctx).await;
        let name = self.operation.lock().ok().and_then(|mut name| name.take());
        self.metrics
            .observe_operation(name.as_deref(), response.errors.is_empty());
        response
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Ok(mut name) = self.operation.lock() {
            *name = operation_name.map(str::to_owned);
        }
        next.run(ctx, operation_name).await
    }
}
