from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from cxhub.urls import urlpatterns as cxhub_urlpatterns


@csrf_exempt
def bare(request):
    """Answer 202 through the same middleware, doing nothing: gunicorn + Django's floor."""
    return JsonResponse({"accepted": True}, status=202)


urlpatterns = [path("bench/bare", bare), *cxhub_urlpatterns]
