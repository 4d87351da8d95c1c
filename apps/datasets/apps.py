from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "apps.datasets"
    label = "datasets"
    verbose_name = "Datasets"
    demo_seeder = "apps.datasets.demo.demo_datasets_seed"
    # The Learnosity dialect (apps.common.api.learnosity) finds the Data API's consumers through this lookup.
    learnosity_consumer_lookup = "apps.datasets.selectors.consumer_get_usable"
