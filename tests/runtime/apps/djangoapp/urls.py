from django.urls import path

from djangoapp import views

urlpatterns = [
    path("api/health/", views.health),
    path("hello/", views.hello),
    path("boom/", views.boom),
    path("noise/", views.noise),
    path("enqueue/", views.enqueue),
]
