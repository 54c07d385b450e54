from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "cetatea.console"
    label = "console"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from cetatea.catalog.models import Area, Category, Department, Team
        from cetatea.console.templatetags.console import clear_choice_cache

        # The queue's select options are cached per process: any change to the rows they
        # list drops them (staff users: saved, deleted, or their groups changed).
        user = get_user_model()
        for model in (Department, Category, Area, Team, user):
            post_save.connect(clear_choice_cache, sender=model, dispatch_uid=f"choices-{model}")
            post_delete.connect(clear_choice_cache, sender=model, dispatch_uid=f"choices-d-{model}")
        m2m_changed.connect(
            clear_choice_cache, sender=user.groups.through, dispatch_uid="choices-groups"
        )
