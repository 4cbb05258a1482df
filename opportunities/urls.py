from django.urls import path

from crm.lists.views import record_list
from opportunities import views
from opportunities import views_currency, views_products
from opportunities import views_board, views_setup

from opportunities import views_quotes

app_name = "opportunities"
urlpatterns = [
    path("", record_list, {"record_type": "opportunities.opportunity"}, name="list"),
    path("<int:pk>/", views.opportunity_detail, name="detail"),
    path("products/import/", views_products.product_import, name="product_import"),
    path("products/", views_products.product_list, name="product_list"),
    path("products/new/", views_products.product_edit, name="product_create"),
    path("products/<int:pk>/", views_products.product_detail, name="product_detail"),
    path("products/<int:pk>/edit/", views_products.product_edit, name="product_edit"),
    path("products/<int:pk>/active/", views_products.product_toggle, name="product_toggle"),
    path("price-books/", views_products.price_book_list, name="price_book_list"),
    path("price-books/new/", views_products.price_book_edit, name="price_book_create"),
    path("price-books/<int:pk>/", views_products.price_book_detail, name="price_book_detail"),
    path("price-books/<int:pk>/edit/", views_products.price_book_edit, name="price_book_edit"),
    path("price-books/prices/<int:pk>/", views_products.price_entry_edit, name="price_entry_edit"),
    path("<int:pk>/lines/new/", views_products.line_edit, name="line_create"),
    path("<int:pk>/lines/<int:line_pk>/", views_products.line_edit, name="line_edit"),
    path("<int:pk>/lines/<int:line_pk>/remove/", views_products.line_remove, name="line_remove"),
    path("<int:pk>/lines/price-book/", views_products.line_price_book, name="line_price_book"),
    path("setup/currencies/", views_currency.currency_settings, name="currencies"),
    path("setup/currencies/rates/<int:pk>/", views_currency.rate_edit, name="rate_edit"),
    path("setup/currencies/import/", views_currency.rate_import, name="rate_import"),
    path("new/", views.opportunity_create, name="create"),
    path("<int:pk>/edit/", views.opportunity_edit, name="edit"),
    path("<int:pk>/delete/", views.opportunity_delete, name="delete"),
    path("<int:pk>/field/<str:name>/", views.opportunity_field, name="field"),
    path("<int:pk>/move/", views.opportunity_move, name="move"),
    path("<int:pk>/timeline/", views.opportunity_timeline, name="timeline"),
    path("<int:pk>/roles/", views.opportunity_roles, name="roles"),
    path("roles/<int:pk>/primary/", views.role_primary, name="role_primary"),
    path("roles/<int:pk>/remove/", views.role_remove, name="role_remove"),
    path("board/", views_board.board, name="board"),
    path("board/<int:pk>/move/", views_board.board_move, name="board_move"),
    path("setup/pipelines/", views_setup.pipelines, name="setup_pipelines"),
    path("setup/pipelines/new/", views_setup.pipeline_edit, name="setup_pipeline_create"),
    path("setup/pipelines/<int:pk>/", views_setup.pipeline_edit, name="setup_pipeline_edit"),
    path("setup/pipelines/<int:pipeline>/stages/new/", views_setup.stage_edit, name="setup_stage_create"),
    path("setup/stages/<int:pk>/", views_setup.stage_edit, name="setup_stage_edit"),
    path("setup/stages/<int:pk>/move/", views_setup.stage_reorder, name="setup_stage_reorder"),
    path("setup/stages/<int:pk>/delete/", views_setup.stage_delete, name="setup_stage_delete"),
    # Quotes and invoices (helper C).
    path("quotes/", views_quotes.quote_list, name="quote_list"),
    path("<int:pk>/quotes/new/", views_quotes.quote_create, name="quote_create"),
    path("quotes/<int:pk>/", views_quotes.quote_detail, name="quote_detail"),
    path("quotes/<int:pk>/edit/", views_quotes.quote_edit, name="quote_edit"),
    path("quotes/<int:pk>/lines/new/", views_quotes.quote_line_edit, name="quote_line_create"),
    path("quotes/<int:pk>/lines/<int:line_pk>/", views_quotes.quote_line_edit, name="quote_line_edit"),
    path("quotes/<int:pk>/lines/<int:line_pk>/remove/", views_quotes.quote_line_remove, name="quote_line_remove"),
    path("quotes/<int:pk>/pdf/", views_quotes.quote_pdf, name="quote_pdf"),
    path("quotes/<int:pk>/send/", views_quotes.quote_send, name="quote_send"),
    path("quotes/<int:pk>/withdraw/", views_quotes.quote_withdraw, name="quote_withdraw"),
    path("quotes/<int:pk>/decide/", views_quotes.quote_decide, name="quote_decide"),
    path("quotes/<int:pk>/invoice/", views_quotes.quote_invoice, name="quote_invoice"),
    path("invoices/<int:pk>/", views_quotes.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/pdf/", views_quotes.invoice_pdf, name="invoice_pdf"),
    path("invoices/<int:pk>/send/", views_quotes.invoice_send, name="invoice_send"),
    path("invoices/<int:pk>/paid/", views_quotes.invoice_paid, name="invoice_paid"),
    path("setup/sales/", views_quotes.sales_settings, name="sales_settings"),
]
