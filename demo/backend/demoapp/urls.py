from django.urls import path

from demoapp import views

urlpatterns = [
    path("api/health/", views.health, name="health"),
    path("api/core/sentry-debug/", views.sentry_debug, name="sentry-debug"),
    path("api/core/hello/", views.hello, name="hello"),
    path("api/core/noise/", views.noise, name="noise"),
    path("api/auth/login/", views.login, name="login"),
    path("api/auth/logout/", views.logout, name="logout"),
    path("api/auth/me/", views.me, name="me"),
    path("api/tasks/", views.enqueue, name="enqueue"),
    path("api/tasks/<str:task_id>/", views.task_status, name="task-status"),
]
