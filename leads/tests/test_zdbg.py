def test_b(celery_worker):
    from opportunities.models import Pipeline, Stage
    print("P2", Pipeline.objects.count(), Stage.objects.count())
