"""The Learnosity Data API of datasets (`/{version}/reports/datasets`, `/{version}/jobs/reports/datasets`,
`/{version}/jobs`), the signed file URLs it hands out, and the native endpoint that ingests sessions."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from apps.common.api.dialects import DialectAPIView
from apps.common.api.learnosity import Learnosity, LearnosityActionView, LearnosityFiles, learnosity_response
from apps.common.api.native import Native
from apps.common.api.parsers import RawBodyParser
from apps.common.api.permissions import IsSysadmin
from apps.common.exceptions import NotFoundError
from apps.datasets import selectors, services
from apps.datasets.api.serializers import DataApiFormSerializer, DatasetJobSerializer, SessionIngestReportSerializer
from apps.datasets.api.signing import DOWNLOAD_SALT, UPLOAD_SALT, download_url, token_read, upload_url
from apps.datasets.models import JobStatus
from apps.datasets.spec import (
    dataset_id_parse,
    dataset_spec_parse,
    dataset_type_check,
    group_paths_parse,
    job_references_parse,
)


def _body(request) -> bytes:
    return request.data if isinstance(request.data, bytes) else b""  # DRF gives {} for an empty body


DATA_API_SCHEMA = extend_schema(request=DataApiFormSerializer, responses=OpenApiTypes.OBJECT)


@DATA_API_SCHEMA
class DatasetsView(LearnosityActionView, DialectAPIView):
    """`set` initialises a dataset and returns its signed upload URLs; `get` returns signed download URLs, one per
    group path in the request's order, once the dataset is complete."""

    dialect = Learnosity
    actions = ("get", "set")

    def set_action(self, request, data):
        spec = dataset_spec_parse(data)
        dataset = services.dataset_create(consumer=request.auth.consumer, spec=spec)
        payload = {"dataset_id": spec.dataset_id}
        if spec.file_count:
            payload["input_files"] = [
                upload_url(request, dataset_id=spec.dataset_id, index=index) for index in range(spec.file_count)
            ]
        else:
            payload["job_reference"] = str(dataset.job.reference)
        return learnosity_response(payload)

    def get_action(self, request, data):
        dataset_type_check(data)
        dataset = selectors.dataset_get(consumer=request.auth.consumer, dataset_id=dataset_id_parse(data))
        paths = group_paths_parse(data, depth=len(dataset.spec["groups"]))
        status = selectors.dataset_status(dataset=dataset)
        if status != JobStatus.COMPLETED:
            return learnosity_response([], dataset_status=status)
        urls = [download_url(request, dataset_id=str(dataset.dataset_id), key="\x1f".join(path)) for path in paths]
        return learnosity_response(urls, dataset_status=status)


@DATA_API_SCHEMA
class DatasetJobView(LearnosityActionView, DialectAPIView):
    """`set` commences the build of a dataset with the files uploaded so far; returns its job reference."""

    dialect = Learnosity
    actions = ("set",)

    def set_action(self, request, data):
        dataset_type_check(data)
        job = services.dataset_job_commence(consumer=request.auth.consumer, dataset_id=dataset_id_parse(data))
        return learnosity_response({"dataset_id": str(job.dataset.dataset_id), "job_reference": str(job.reference)})


@DATA_API_SCHEMA
class JobsView(LearnosityActionView, DialectAPIView):
    """`get` reports the consumer's jobs named in `references` (its completed jobs when none are named)."""

    dialect = Learnosity
    actions = ("get",)

    def get_action(self, request, data):
        jobs = selectors.jobs_list(consumer=request.auth.consumer, references=job_references_parse(data))
        return learnosity_response(DatasetJobSerializer(jobs, many=True).data)


@extend_schema(exclude=True)
class InputFileView(DialectAPIView):
    """The signed upload URL of one input file: PUT its NDJSON."""

    dialect = LearnosityFiles

    def put(self, request, token):
        named = token_read(token, salt=UPLOAD_SALT)
        content = _body(request)
        services.dataset_file_upload(dataset_id=named["d"], index=named["i"], content=content)
        return learnosity_response({"dataset_id": named["d"], "size": len(content)})


@extend_schema(exclude=True)
class OutputFileView(DialectAPIView):
    """The signed download URL of one node's file (any page of it); 404 for a path the dataset does not have."""

    dialect = LearnosityFiles

    def get(self, request, token, page):
        named = token_read(token, salt=DOWNLOAD_SALT)
        output = selectors.output_file_get(dataset_id=named["d"], key=named["k"], page=int(page))
        if output is None:
            raise NotFoundError("No such group path in the dataset", code="invalid")
        return HttpResponse(selectors.output_document_bytes(output_file=output), content_type="application/json")


class SessionIngestView(DialectAPIView):
    """Sysadmins post assessment sessions as NDJSON (one session object a line); idempotent on session_id."""

    dialect = Native
    permission_classes = (IsSysadmin,)
    parser_classes = (RawBodyParser,)

    @extend_schema(request={"text/plain": OpenApiTypes.STR}, responses=SessionIngestReportSerializer)
    def post(self, request):
        report = services.sessions_ingest(lines=_body(request).splitlines())
        return Response(SessionIngestReportSerializer(report).data)
